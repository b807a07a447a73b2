fn main() {
    openctl::output::restore_terminal_on_signal();
    std::process::exit(openctl::run());
}
