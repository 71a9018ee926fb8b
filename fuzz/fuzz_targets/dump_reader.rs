//! The postproc dump reader on arbitrary bytes: it must return an error or
//! frames, never panic, and never allocate in proportion to a declared (but
//! absent) atom count. Run under `-malloc_limit_mb` to check the latter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use dprs_analysis::dump::{read, ReadOptions};
use std::path::PathBuf;
use std::sync::OnceLock;

fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("dprs-fuzz-{}.lammpstrj", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("scratch file");
    let mut frames = 0usize;
    let result = read(
        std::slice::from_ref(path),
        &ReadOptions::default(),
        |frame| {
            // Touch what an analysis touches.
            assert_eq!(frame.pos.len(), frame.ids.len());
            frames += 1;
            Ok(())
        },
    );
    if let Ok(info) = result {
        assert_eq!(info.n_frames, frames);
    }
});
