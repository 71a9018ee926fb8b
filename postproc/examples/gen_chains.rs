//! Writes a small planted-chain temperature series for `postproc report`:
//! simple-cubic crystals (6³ sites, a = 3 Å, 0.02 ps frames) of harmonic
//! oscillators (positions only: velocities come from finite differences, so the
//! VDOS sees the hops) in which whole x lines slide by ±a at an Arrhenius rate
//! k = 5/ps · exp(−0.3 eV / kT) per line. Usage: gen_chains OUTDIR T...

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen_chains OUTDIR T...");
        std::process::exit(2);
    }
    let (n, a, dt, frames) = (6usize, 3.0f64, 0.02f64, 1500usize);
    let l = n as f64 * a;
    let mut state: u64 = 99;
    let mut uni = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    std::fs::create_dir_all(&args[1])?;
    for t in &args[2..] {
        let temp: f64 = t.parse().expect("T in K");
        let rate = 5.0 * (-0.3 / (8.617333262e-5 * temp)).exp();
        let s2 = 0.831446 * temp / 40.078; // kT/m of Ca, (Å/ps)²
        let w = 2.0 * std::f64::consts::PI * 5.0;
        let natoms = n * n * n;
        let mut amp = Vec::new();
        for _ in 0..natoms * 3 {
            let r = (-2.0 * uni().max(1e-300).ln()).sqrt() * s2.sqrt() / w;
            amp.push((r, 2.0 * std::f64::consts::PI * uni()));
        }
        let mut shift = vec![0i64; n * n];
        let mut path = std::path::PathBuf::from(&args[1]);
        path.push(format!("chains_{temp:.0}K.lammpstrj"));
        let mut out = BufWriter::new(std::fs::File::create(&path)?);
        for f in 0..frames {
            for s in shift.iter_mut() {
                if uni() < rate * dt {
                    *s += if uni() < 0.5 { 1 } else { -1 };
                }
            }
            writeln!(
                out,
                "ITEM: TIMESTEP\n{}\nITEM: NUMBER OF ATOMS\n{natoms}\nITEM: BOX BOUNDS pp pp pp",
                f * 20
            )?;
            for _ in 0..3 {
                writeln!(out, "{} {}", -0.5 * a, l - 0.5 * a)?;
            }
            writeln!(out, "ITEM: ATOMS id type xu yu zu")?;
            let time = f as f64 * dt;
            for i in 0..natoms {
                let (ix, iy, iz) = (i / (n * n), (i / n) % n, i % n);
                let site = [
                    ix as f64 * a + shift[iy * n + iz] as f64 * a,
                    iy as f64 * a,
                    iz as f64 * a,
                ];
                let mut r = [0.0; 3];
                for k in 0..3 {
                    let (am, ph) = amp[3 * i + k];
                    r[k] = site[k] + am * (w * time + ph).cos();
                }
                writeln!(out, "{} 1 {:.5} {:.5} {:.5}", i + 1, r[0], r[1], r[2])?;
            }
        }
        out.flush()?;
        println!("{}", path.display());
    }
    Ok(())
}
