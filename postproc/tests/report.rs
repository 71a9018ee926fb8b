//! `postproc report` writes a self-contained index.html: every link and
//! image is relative and exists, figures that cannot exist are explained in
//! words, and no Markdown, null or NaN leaks into the page.

mod common;

use common::*;
use std::path::Path;

/// The values of every `attr="..."` in `html`.
fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let key = format!("{attr}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&key) {
        let after = &rest[i + key.len()..];
        let end = after.find('"').expect("attribute closed");
        out.push(after[..end].replace("&amp;", "&"));
        rest = &after[end..];
    }
    out
}

/// The page's text and links obey the rules; returns the `<img>` sources.
fn check_page(dir: &Path) -> (String, Vec<String>) {
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let imgs = attr_values(&html, "src");
    let links = attr_values(&html, "href");
    for target in imgs.iter().chain(&links) {
        assert!(
            !target.starts_with('/') && !target.contains("://") && !target.contains(".."),
            "not a link inside the folder: {target}"
        );
        assert!(
            dir.join(target).exists(),
            "{target} is linked but does not exist"
        );
    }
    for bad in ["](", "`", "**", "null", "NaN", "– ± –", "inf "] {
        assert!(!html.contains(bad), "{bad:?} left in index.html");
    }
    // Tags balance: every opened figure and table is closed.
    for tag in ["figure", "table", "ul", "p"] {
        let open =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        let close = html.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "<{tag}> opened {open}, closed {close}");
    }
    (html, imgs)
}

fn lattice() -> Lattice {
    Lattice {
        cells: 4,
        a: 3.0,
        dt: 0.02,
        w0: 2.0 * std::f64::consts::PI * 5.0,
        gamma: 3.0,
        s2: 20.0,
        chains: 2,
        p_hop: 0.05,
    }
}

#[test]
fn report_on_a_planted_series_links_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for (k, (t, p_hop)) in [(1000.0, 0.03), (1500.0, 0.08)].into_iter().enumerate() {
        let mut p = lattice();
        p.p_hop = p_hop;
        let (traj, _) = sc_lattice(p, 300, 20 + k as u64);
        let dump = dir.path().join(format!("run_{t}.lammpstrj"));
        std::fs::write(&dump, dump_text(&traj, 0..300, Flavour::Image, None)).unwrap();
        runs.push(format!("{}@{t}", dump.display()));
    }
    let out = dir.path().join("report");
    let st = postproc()
        .arg("report")
        .args(&runs)
        .args(["--dt", "0.02", "--mass", "1=40.078", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    // Move the folder: a relative page still works where it lands.
    let moved = dir.path().join("moved");
    std::fs::rename(&out, &moved).unwrap();
    let (html, imgs) = check_page(&moved);
    // Every PNG written is shown, and nothing else is.
    let mut pngs = Vec::new();
    for sub in ["", "run0_1000K", "run1_1500K"] {
        for e in std::fs::read_dir(moved.join(sub)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".png") {
                pngs.push(if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                });
            }
        }
    }
    let (mut a, mut b) = (pngs.clone(), imgs.clone());
    a.sort();
    b.sort();
    assert_eq!(a, b, "figures on disk vs figures on the page");
    // Each figure links its SVG (check_page found every link's file).
    let links = attr_values(&html, "href");
    for png in &pngs {
        let svg = format!("{}.svg", png.strip_suffix(".png").unwrap());
        assert!(links.contains(&svg), "{svg} not linked next to {png}");
    }
    for f in [
        "arrhenius.png",
        "fg_vs_T.png",
        "run0_1000K/msd.png",
        "run1_1500K/flux_x.png",
    ] {
        assert!(imgs.iter().any(|i| i == f), "{f} missing from the page");
    }
    // D in plain notation with its error: "0.264 ± 0.035", not 2.64e-1.
    let b = html.as_bytes();
    let sci = (1..b.len().saturating_sub(2)).any(|i| {
        b[i - 1].is_ascii_digit()
            && (b[i] == b'e' || b[i] == b'E')
            && (b[i + 1] == b'-' || b[i + 1] == b'+' || b[i + 1].is_ascii_digit())
    });
    assert!(!sci, "scientific notation in the page");
    assert!(html.contains(" ± "));
    assert!(!html.contains("Fig."), "captions name a paper's figures");
}

#[test]
fn report_on_a_single_run_says_why_figures_are_missing() {
    // Free random walkers in a tilted box: no lattice planes (flux and
    // chains cannot run), one temperature (no Arrhenius fit, no plot vs T).
    let mut t = free_diffusion(60, 200, 0.02, [0.1, 0.1, 0.1], 12.0, 5);
    t.cell.edges[1][0] = 2.0;
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("liquid.lammpstrj");
    std::fs::write(&dump, dump_text(&t, 0..200, Flavour::Unwrapped, None)).unwrap();
    let out = dir.path().join("report");
    let st = postproc()
        .arg("report")
        .arg(format!("{}@1200", dump.display()))
        .args(["--dt", "0.02", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let (html, imgs) = check_page(&out);
    assert!(!out.join("arrhenius.png").exists());
    assert!(!out.join("fg_vs_T.png").exists());
    assert!(imgs
        .iter()
        .all(|i| !i.contains("arrhenius") && !i.contains("vs_T")));
    assert!(
        html.contains("No Arrhenius fit"),
        "no reason for the missing fit"
    );
    assert!(html.contains("two or more temperatures"));
    // The flux and chain sections give the lattice's reason.
    assert!(
        html.matches("tilted box").count() >= 4,
        "flux x/y/z and chains should each say why"
    );
    assert!(imgs.iter().any(|i| i == "run0_1200K/msd.png"));
    assert!(attr_values(&html, "href")
        .iter()
        .any(|l| l == "run0_1200K/msd.svg"));
    assert!(imgs.iter().all(|i| !i.contains("flux_")));
    // Running again keeps the first report aside instead of mixing files.
    let st = postproc()
        .arg("report")
        .arg(format!("{}@1200", dump.display()))
        .args(["--dt", "0.02", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success());
    assert!(dir.path().join("report.previous/index.html").exists());
    assert!(String::from_utf8_lossy(&st.stderr).contains("report.previous"));
}
