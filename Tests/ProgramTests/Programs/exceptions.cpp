// C++ exceptions: unwinding through frames, rethrow, and destructors run in order.
#include <cstdio>
#include <stdexcept>
#include <string>

struct Guard {
    std::string name;
    explicit Guard(std::string n) : name(std::move(n)) {}
    ~Guard() { std::printf("destroy %s\n", name.c_str()); }
};

static int depth_throw(int n) {
    Guard guard("level " + std::to_string(n));
    if (n == 0) throw std::runtime_error("bottom reached");
    return depth_throw(n - 1) + 1;
}

struct Custom { int code; };

int main() {
    try {
        depth_throw(3);
    } catch (const std::exception &error) {
        std::printf("caught: %s\n", error.what());
    }
    for (int i = 0; i < 3; i++) {
        try {
            try {
                if (i == 0) throw Custom{7};
                if (i == 1) throw std::out_of_range("index");
                throw 42;
            } catch (const Custom &c) {
                std::printf("custom %d, rethrowing\n", c.code);
                throw;
            }
        } catch (const Custom &c) {
            std::printf("outer custom %d\n", c.code);
        } catch (const std::logic_error &e) {
            std::printf("logic_error %s\n", e.what());
        } catch (...) {
            std::printf("something else\n");
        }
    }
    return 0;
}
