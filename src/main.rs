fn main() {
    std::process::exit(authcfg::cli::main());
}
