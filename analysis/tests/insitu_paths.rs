//! The in-situ sampler fed the way the LAMMPS fix feeds it (atoms in rank
//! order, wrapped positions with image flags) equals the same sampler fed
//! a dump of the same samples through the dump reader.

use dprs_analysis::analysis::diffusion::FitWindow;
use dprs_analysis::dump::{self, ReadOptions};
use dprs_analysis::insitu::{Config, Insitu, Sample};

#[test]
fn lammps_arrays_and_a_dump_give_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let (n, frames, box_len) = (20usize, 40usize, 10.0f64);
    let cfg = |out: &str| Config {
        out: dir.path().join(out),
        dt: 0.01,
        msd_lag: 8,
        block_len: 10,
        fit: FitWindow { from: 2, to: 8 },
        vacf_lag: Some(6),
        by_type: true,
        flux: None,
        plots: false,
    };
    let mut live = Insitu::new(cfg("live")).unwrap();
    let mut text = String::new();
    let mut seed = 7u64;
    let mut rnd = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let mut pos: Vec<[f64; 3]> = (0..n).map(|i| [i as f64 * 0.5, 1.0, 2.0]).collect();
    for t in 0..frames {
        for p in pos.iter_mut() {
            for v in p.iter_mut() {
                *v += 1.5 * rnd();
            }
        }
        // Rank order: a rotation of the id order, different every sample.
        let order: Vec<usize> = (0..n).map(|k| (k + 3 * t) % n).collect();
        let ids: Vec<u64> = order.iter().map(|&i| i as u64 + 1).collect();
        let types: Vec<u32> = order.iter().map(|&i| 1 + (i % 3 == 0) as u32).collect();
        let mut x = Vec::new();
        let mut image = Vec::new();
        let mut v = Vec::new();
        text.push_str(&format!(
            "ITEM: TIMESTEP\n{}\nITEM: NUMBER OF ATOMS\n{n}\nITEM: BOX BOUNDS pp pp pp\n\
             0 {box_len}\n0 {box_len}\n0 {box_len}\nITEM: ATOMS id type x y z ix iy iz vx vy vz\n",
            t * 10
        ));
        for (k, &i) in order.iter().enumerate() {
            let u = pos[i];
            let im = u.map(|c| (c / box_len).floor() as i32);
            let w = [0, 1, 2].map(|a| u[a] - im[a] as f64 * box_len);
            let vel = [u[0] * 0.1, -u[1], 0.3 * (t as f64)];
            text.push_str(&format!(
                "{} {} {:.17e} {:.17e} {:.17e} {} {} {} {:.17e} {:.17e} {:.17e}\n",
                ids[k], types[k], w[0], w[1], w[2], im[0], im[1], im[2], vel[0], vel[1], vel[2]
            ));
            x.push(w);
            image.push(im);
            v.push(vel);
        }
        live.push(&Sample {
            step: t as u64 * 10,
            ids: &ids,
            types: &types,
            x: &x,
            image: &image,
            v: &v,
            boxlo: [0.0; 3],
            len: [box_len; 3],
            tilt: [0.0; 3],
        })
        .unwrap();
    }
    live.write().unwrap();
    let path = dir.path().join("d.lammpstrj");
    std::fs::write(&path, text).unwrap();
    let mut replay = Insitu::new(cfg("replay")).unwrap();
    let opts = ReadOptions {
        every: 1,
        max_frames: None,
        progress: false,
    };
    dump::read(&[path], &opts, |f| replay.push_frame(f)).unwrap();
    replay.write().unwrap();
    for name in ["msd.csv", "vacf.csv", "vdos.csv"] {
        let a = std::fs::read_to_string(dir.path().join("live").join(name)).unwrap();
        let b = std::fs::read_to_string(dir.path().join("replay").join(name)).unwrap();
        assert_eq!(a, b, "{name}");
    }
    let json = |d: &str| -> serde_json::Value {
        let t = std::fs::read_to_string(dir.path().join(d).join("msd.json")).unwrap();
        serde_json::from_str(&t).unwrap()
    };
    let (a, b) = (json("live"), json("replay"));
    assert_eq!(a["groups"], b["groups"]);
    assert_eq!(a["blocks"], 4);
    assert!(
        a["groups"]["type2"]["D"]["total"]["value"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}
