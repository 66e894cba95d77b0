//! The `scalesim` command line. Thin: parsing, exit codes and printing; the work is in the library.

mod cli;

fn main() {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`scalesim check FILE | head -1`)
    // fails and `println!` panics; with the default action the process ends quietly instead.
    // Not for `real`, whose database and Redis sockets must see a peer's reset as an error
    // (the faults it injects cut connections) rather than be killed by the signal.
    #[cfg(unix)]
    if std::env::args().nth(1).as_deref() != Some("real") {
        // SAFETY: called first thing in `main`, before any other thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    std::process::exit(cli::main());
}
