//! The `scalesim` command line. Thin: parsing, exit codes and printing; the work is in the library.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
