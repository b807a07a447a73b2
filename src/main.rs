fn main() {
    std::process::exit(openctl::run());
}
