//! The `postproc` executable: see the library for the commands.

fn main() -> std::process::ExitCode {
    postproc::main_with_args(std::env::args_os())
}
