// link: dynamic
// C++ through libstdc++.so and libgcc_s.so: iostreams, exceptions across the shared library, RTTI.
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

struct Shape { virtual ~Shape() = default; virtual double area() const = 0; };
struct Square : Shape { double side; explicit Square(double s) : side(s) {} double area() const override { return side * side; } };

int main() {
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 1; i <= 5; i++) shapes.push_back(std::make_unique<Square>(i));
    double total = 0;
    for (auto &shape : shapes) total += shape->area();
    std::map<std::string, int> counts;
    std::istringstream words("a b a c b a");
    for (std::string word; words >> word;) counts[word]++;
    std::cout << "total " << total << "\n";
    for (auto &[word, count] : counts) std::cout << word << "=" << count << "\n";
    try {
        std::vector<int>().at(3);
    } catch (const std::out_of_range &error) {
        std::cout << "caught " << typeid(error).name() << "\n";
    }
    return 0;
}
