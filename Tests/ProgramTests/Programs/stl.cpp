// STL containers and algorithms.
#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

int main() {
    std::vector<int> numbers(1000);
    std::iota(numbers.begin(), numbers.end(), 0);
    std::reverse(numbers.begin(), numbers.end());
    std::stable_sort(numbers.begin(), numbers.end(), [](int a, int b) { return a % 7 < b % 7; });
    std::printf("first=%d %d %d sum=%d\n", numbers[0], numbers[1], numbers[2], std::accumulate(numbers.begin(), numbers.end(), 0));

    std::map<std::string, int> counts;
    const char *text = "the cat and the dog and the bird saw the cat";
    std::string word;
    for (const char *p = text;; p++) {
        if (*p == ' ' || *p == 0) { if (!word.empty()) counts[word]++; word.clear(); if (!*p) break; }
        else word += *p;
    }
    for (auto &[key, value] : counts) std::printf("%s=%d ", key.c_str(), value);
    std::printf("\n");

    std::unordered_map<long, long> squares;
    for (long i = 0; i < 5000; i++) squares[i * 7919 % 10007] = i * i;
    long total = 0;
    for (long i = 0; i < 10007; i += 13) { auto it = squares.find(i); if (it != squares.end()) total += it->second % 1000; }
    std::printf("unordered total=%ld size=%zu\n", total, squares.size());

    std::set<std::string> names{"zeta", "alpha", "mu", "beta"};
    std::string joined;
    for (auto &name : names) joined += name + ",";
    std::printf("set=%s\n", joined.c_str());
    std::string s = "Hello, World";
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    std::printf("lower=%s find=%zu substr=%s\n", s.c_str(), s.find("world"), s.substr(7).c_str());
    return 0;
}
