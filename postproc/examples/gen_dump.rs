//! Writes a benchmark dump: a simple-cubic lattice with thermal noise and
//! drifting atoms, velocities and image flags (`dump custom id type x y z ix
//! iy iz vx vy vz`). Usage: gen_dump OUT ATOMS_PER_EDGE FRAMES

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: gen_dump OUT ATOMS_PER_EDGE FRAMES");
        std::process::exit(2);
    }
    let n: usize = args[2].parse().expect("atoms per edge");
    let frames: usize = args[3].parse().expect("frames");
    let a = 3.0;
    let l = n as f64 * a;
    let mut w = BufWriter::with_capacity(1 << 22, std::fs::File::create(&args[1])?);
    let mut state: u64 = 12345;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let natoms = n * n * n;
    let mut drift = vec![[0.0f64; 3]; natoms];
    for f in 0..frames {
        write!(
            w,
            "ITEM: TIMESTEP\n{}\nITEM: NUMBER OF ATOMS\n{natoms}\nITEM: BOX BOUNDS pp pp pp\n",
            f * 10
        )?;
        for _ in 0..3 {
            writeln!(w, "0.0000000000000000e+00 {l:.16e}")?;
        }
        writeln!(w, "ITEM: ATOMS id type x y z ix iy iz vx vy vz")?;
        for (i, dr) in drift.iter_mut().enumerate() {
            let site = [
                (i / (n * n)) as f64 * a,
                ((i / n) % n) as f64 * a,
                (i % n) as f64 * a,
            ];
            let mut r = [0.0; 3];
            let mut img = [0i64; 3];
            for k in 0..3 {
                dr[k] += 0.05 * rand();
                let u = site[k] + dr[k] + 0.2 * rand();
                img[k] = (u / l).floor() as i64;
                r[k] = u - img[k] as f64 * l;
            }
            writeln!(
                w,
                "{} {} {:.6} {:.6} {:.6} {} {} {} {:.6} {:.6} {:.6}",
                i + 1,
                1 + i % 2,
                r[0],
                r[1],
                r[2],
                img[0],
                img[1],
                img[2],
                10.0 * rand(),
                10.0 * rand(),
                10.0 * rand()
            )?;
        }
    }
    w.flush()
}
