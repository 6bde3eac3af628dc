// Pointer chasing: build, walk and free binary trees (malloc heavy).
#include <stdio.h>
#include <stdlib.h>
typedef struct Node { struct Node *left, *right; } Node;
static Node *build(int depth) {
    Node *n = malloc(sizeof *n);
    if (depth > 0) { n->left = build(depth - 1); n->right = build(depth - 1); } else n->left = n->right = NULL;
    return n;
}
static long check(const Node *n) { return n->left ? 1 + check(n->left) + check(n->right) : 1; }
static void release(Node *n) { if (n->left) { release(n->left); release(n->right); } free(n); }
int main(void) {
    long total = 0;
    Node *longLived = build(18);
    for (int depth = 4; depth <= 18; depth += 2) {
        int iterations = 1 << (18 - depth + 4);
        for (int i = 0; i < iterations; i++) { Node *t = build(depth); total += check(t); release(t); }
    }
    printf("%ld %ld\n", total, check(longLived));
    release(longLived);
    return 0;
}
