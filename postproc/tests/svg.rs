//! Every figure is written twice: a PNG and, beside it with the same stem,
//! an SVG with real text (titles and axis labels as `<text>` elements).

mod common;

use common::*;
use std::path::Path;

/// The contents of the `<text>` elements of an SVG, each with its opening
/// tag; panics unless the file looks like a whole SVG document.
fn svg_texts(path: &Path) -> Vec<(String, String)> {
    let svg = std::fs::read_to_string(path).unwrap();
    let head = svg.trim_start();
    assert!(
        head.starts_with("<svg") || head.starts_with("<?xml"),
        "{} does not start as an SVG",
        path.display()
    );
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "{} is not closed",
        path.display()
    );
    let mut out = Vec::new();
    let mut rest = svg.as_str();
    while let Some(i) = rest.find("<text") {
        let after = &rest[i..];
        let open_end = after.find('>').expect("text tag closed");
        let close = after.find("</text>").expect("text element closed");
        out.push((
            after[..open_end].to_string(),
            after[open_end + 1..close].trim().to_string(),
        ));
        rest = &after[close..];
    }
    assert_eq!(
        out.len(),
        svg.matches("</text>").count(),
        "{}: nested or unbalanced <text>",
        path.display()
    );
    out
}

/// Every PNG in `dir` has an SVG sibling; returns the figures' stems.
fn check_folder(dir: &Path) -> Vec<String> {
    let mut stems = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".png") {
            let svg = dir.join(format!("{stem}.svg"));
            assert!(svg.is_file(), "{name} has no SVG beside it");
            assert!(!svg_texts(&svg).is_empty(), "{stem}.svg has no text");
            stems.push(stem.to_string());
        }
    }
    stems.sort();
    stems
}

/// `label` is a `<text>` of the SVG; with `rotated`, turned to read upwards.
fn has_label(svg: &Path, label: &str, rotated: bool) {
    let texts = svg_texts(svg);
    let hit = texts
        .iter()
        .find(|(_, t)| t == label)
        .unwrap_or_else(|| panic!("{}: no <text> {label:?} in {texts:?}", svg.display()));
    assert_eq!(
        hit.0.contains("rotate(270"),
        rotated,
        "{}: {label:?} turned wrongly: {}",
        svg.display(),
        hit.0
    );
}

#[test]
fn every_png_has_an_svg_with_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let p = Lattice {
        cells: 4,
        a: 3.0,
        dt: 0.02,
        w0: 2.0 * std::f64::consts::PI * 5.0,
        gamma: 3.0,
        s2: 20.0,
        chains: 2,
        p_hop: 0.08,
    };
    let (traj, _) = sc_lattice(p, 300, 21);
    let dump = dir.path().join("run.lammpstrj");
    std::fs::write(&dump, dump_text(&traj, 0..300, Flavour::Image, None)).unwrap();
    let run = |cmd: &str| {
        let out = dir.path().join(cmd);
        let st = postproc()
            .arg(cmd)
            .arg(&dump)
            .args(["--dt", "0.02", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
        out
    };
    // Line plot.
    let msd = run("msd");
    assert_eq!(check_folder(&msd), ["msd"]);
    let svg = msd.join("msd.svg");
    has_label(&svg, "t (ps)", false);
    has_label(&svg, "MSD (Å²)", true);
    has_label(&svg, "Mean-squared displacement per axis", false);
    // Heat maps.
    let flux = run("flux");
    assert_eq!(check_folder(&flux), ["flux_x", "flux_y", "flux_z"]);
    has_label(&flux.join("flux_x.svg"), "y (Å)", false);
    has_label(&flux.join("flux_x.svg"), "z (Å)", true);
    has_label(&flux.join("flux_x.svg"), "crossings", false);
    // Bars and lines.
    let chains = run("chains");
    let stems = check_folder(&chains);
    for s in ["chain_lengths", "cmsd", "diffusive_fraction"] {
        assert!(stems.iter().any(|x| x == s), "{s} missing from {stems:?}");
    }
    has_label(&chains.join("chain_lengths.svg"), "chains", true);
    // A second run keeps the first one's SVG aside with its PNG.
    run("msd");
    assert!(msd.join("previous/msd.png").is_file());
    assert!(msd.join("previous/msd.svg").is_file());
    assert!(msd.join("msd.svg").is_file());
}
