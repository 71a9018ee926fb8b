//! LAMMPS `metal` units (Å, ps, g/mol, K) and the conversions we report.

/// Boltzmann constant in (g/mol)·Å²/ps²/K, so that kT/m is in (Å/ps)².
pub const KB_METAL_MASS: f64 = 0.831_446_261_815_324;
/// 1 Å²/ps in m²/s.
pub const A2_PER_PS_IN_M2_PER_S: f64 = 1e-8;
/// 1 Å²/ps in cm²/s.
pub const A2_PER_PS_IN_CM2_PER_S: f64 = 1e-4;
