// A bytecode interpreter loop: a small stack machine running a counting program.
#include <stdio.h>
enum { PUSH, ADD, SUB, MUL, DUP, SWAP, JNZ, POP, MOD, HALT, LOAD, STORE };
int main(void) {
    static const int program[] = {
        PUSH, 0, STORE, 0,            // acc = 0
        PUSH, 80000000, STORE, 1,     // n
        LOAD, 0, LOAD, 1, ADD, PUSH, 7, MUL, PUSH, 1000003, MOD, STORE, 0,   // acc = (acc + n) * 7 % 1000003
        LOAD, 1, PUSH, 1, SUB, DUP, STORE, 1, JNZ, 8,
        LOAD, 0, HALT};
    long stack[64], vars[4] = {0};
    int sp = 0, pc = 0;
    for (;;) {
        int op = program[pc++];
        switch (op) {
        case PUSH: stack[sp++] = program[pc++]; break;
        case ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
        case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
        case DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case SWAP: { long t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break; }
        case POP: sp--; break;
        case LOAD: stack[sp++] = vars[program[pc++]]; break;
        case STORE: vars[program[pc++]] = stack[--sp]; break;
        case JNZ: { int target = program[pc++]; if (stack[--sp]) pc = target; break; }
        case HALT: printf("%ld\n", stack[sp - 1]); return 0;
        }
    }
}
