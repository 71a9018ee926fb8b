"""Reference: MDAnalysis EinsteinMSD (FFT) on the dump; D per axis from the slope."""
import sys, numpy as np, MDAnalysis as mda
from MDAnalysis.analysis.msd import EinsteinMSD

path, dt = sys.argv[1], float(sys.argv[2])
u = mda.Universe(path, format="LAMMPSDUMP", dt=dt, unwrap_images=True)
D = []
for ax in ("x", "y", "z"):
    m = EinsteinMSD(u, select="all", msd_type=ax, fft=True).run()
    T = len(m.results.timeseries); lb = T // 5
    t = np.arange(T) * dt; w = slice(lb // 10, lb // 2 + 1)
    D.append(np.polyfit(t[w], m.results.timeseries[w], 1)[0] / 2)
print({"D": D, "n_frames": u.trajectory.n_frames})
