"""Reference pipeline: pandas reads the dump, numpy does FFT MSD, D per axis, VACF/VDOS."""
import sys, numpy as np, pandas as pd

path, dt = sys.argv[1], float(sys.argv[2])
with open(path) as f:
    head = [next(f) for _ in range(9)]
n = int(head[3]); box = [list(map(float, head[5 + k].split())) for k in range(3)]
L = np.array([b[1] - b[0] for b in box])
cols = head[8].split()[2:]
# Header line indices of every frame (the file has a fixed frame length).
import os
nlines = sum(1 for _ in open(path))
T = nlines // (n + 9)
skip = (np.arange(T)[:, None] * (n + 9) + np.arange(9)[None, :]).ravel()
df = pd.read_csv(path, sep=" ", header=None, names=cols, skiprows=skip, engine="c")
a = df.to_numpy().reshape(T, n, len(cols))
order = np.argsort(a[0, :, cols.index("id")])
a = a[:, order]
x = a[:, :, [cols.index(c) for c in ("x", "y", "z")]] + a[:, :, [cols.index(c) for c in ("ix", "iy", "iz")]] * L
v = a[:, :, [cols.index(c) for c in ("vx", "vy", "vz")]]
del a, df

def msd_fft(r):  # r: (T, n, 3) -> (T, 3)
    T = r.shape[0]
    F = np.fft.rfft(r - r.mean(0), n=2 * T, axis=0)
    S = np.fft.irfft(F * F.conj(), axis=0)[:T]
    q = np.cumsum(np.concatenate([np.zeros((1,) + r.shape[1:]), (r - r.mean(0)) ** 2]), axis=0)
    k = np.arange(T)[:, None, None]
    sq = q[T - k[:, 0, 0]] + (q[T] - q[k[:, 0, 0]])
    return ((sq - 2 * S) / (T - k)).mean(1)

m = msd_fft(x)
t = np.arange(T) * dt
lb = T // 5; w = slice(lb // 10, lb // 2 + 1)
D = [np.polyfit(t[w], m[w, a], 1)[0] / 2 for a in range(3)]
L2 = 300
F = np.fft.rfft(v, n=2 * T, axis=0)
vacf = np.fft.irfft(F * F.conj(), axis=0)[: L2 + 1].mean(1) / (T - np.arange(L2 + 1))[:, None]
phi = vacf.mean(1)
win = 0.5 * (1 + np.cos(np.pi * np.arange(L2 + 1) / L2))
dos = np.fft.rfft(np.concatenate([phi * win, (phi * win)[-2:0:-1]])).real
print({"D": D, "D_F0": dt * (phi[0] / 2 + (phi[1:] * win[1:]).sum()), "n_frames": T})
