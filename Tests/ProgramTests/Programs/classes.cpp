// C++ classes with virtual calls, multiple inheritance and RTTI.
#include <cstdio>
#include <memory>
#include <vector>

struct Shape {
    virtual ~Shape() = default;
    virtual double area() const = 0;
    virtual const char *name() const { return "shape"; }
};
struct Square : Shape {
    double side;
    explicit Square(double s) : side(s) {}
    double area() const override { return side * side; }
    const char *name() const override { return "square"; }
};
struct Circle : Shape {
    double radius;
    explicit Circle(double r) : radius(r) {}
    double area() const override { return 3.141592653589793 * radius * radius; }
    const char *name() const override { return "circle"; }
};
struct Named { virtual const char *label() const { return "named"; } virtual ~Named() = default; };
struct Labeled : Square, Named {
    Labeled() : Square(2) {}
    const char *label() const override { return "labeled square"; }
};

int main() {
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 1; i <= 6; i++) {
        if (i % 3 == 0) shapes.push_back(std::make_unique<Labeled>());
        else if (i % 2) shapes.push_back(std::make_unique<Square>(i));
        else shapes.push_back(std::make_unique<Circle>(i));
    }
    double total = 0;
    for (auto &shape : shapes) {
        total += shape->area();
        std::printf("%s %.4f", shape->name(), shape->area());
        if (auto *named = dynamic_cast<Named *>(shape.get())) std::printf(" (%s)", named->label());
        std::printf("\n");
    }
    std::printf("total=%.4f\n", total);
    return 0;
}
