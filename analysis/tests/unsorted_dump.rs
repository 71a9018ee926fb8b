//! A dump whose rows are not sorted by atom id: types and positions must
//! stay with their atoms.

use dprs_analysis::dump::{self, ReadOptions};

#[test]
fn types_follow_their_atoms_in_an_unsorted_dump() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.lammpstrj");
    let mut text = String::new();
    for step in [0, 10] {
        text.push_str(&format!(
            "ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n3\nITEM: BOX BOUNDS pp pp pp\n\
             0 10\n0 10\n0 10\nITEM: ATOMS id type x y z\n"
        ));
        // Rows in id order 3, 1, 2 (atom k sits at x = k, has type 10 + k).
        for id in [3, 1, 2] {
            text.push_str(&format!("{id} {} {id}.0 1.0 1.0\n", 10 + id));
        }
    }
    std::fs::write(&path, text).unwrap();
    let opts = ReadOptions {
        every: 1,
        max_frames: None,
        progress: false,
    };
    let mut seen = 0;
    dump::read(&[path], &opts, |f| {
        assert_eq!(f.ids.as_slice(), &[1, 2, 3]);
        assert_eq!(f.types.as_slice(), &[11, 12, 13]);
        for (k, p) in f.pos.iter().enumerate() {
            assert_eq!(p[0], (k + 1) as f64);
        }
        seen += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, 2);
}
