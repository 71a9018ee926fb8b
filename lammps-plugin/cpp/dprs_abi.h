/* The C ABI between the C++ pair class and the Rust library.
 * The shim only marshals LAMMPS arrays; every decision and all physics are
 * made in Rust. Every function runs under a panic guard on the Rust side: no
 * Rust panic crosses this boundary, and a panic is reported like an error.
 * Functions returning int32_t give 0 on success and nonzero on failure, with
 * the reason in `err` (NUL-terminated, at most errlen bytes) where they take
 * one; the few that return a value say what they return on failure. Outputs
 * are written before any early return.
 *
 * Keep in sync with lammps-plugin/src/abi.rs. The layout of dprs_step is
 * pinned on both sides: the DPRS_ABI_OFFSET lines below (checked by the C++
 * compiler) and the same numbers in abi.rs (checked by rustc, and a Rust unit
 * test compares the two lists), so a field changed on one side only fails
 * the build. */
#ifndef DPRS_ABI_H
#define DPRS_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dprs_pair dprs_pair;

typedef struct {
  int64_t timestep;
  int32_t nlocal, nghost;
  const double *x;     /* [nlocal+nghost][3], contiguous */
  const int32_t *type; /* [nlocal+nghost], LAMMPS types from 1 */
  int32_t inum;
  const int32_t *ilist;         /* [inum] */
  const int32_t *numneigh;      /* indexed by atom */
  const int32_t *const *firstneigh; /* indexed by atom */
  double *f;      /* [nlocal+nghost][3], accumulated into */
  double *eatom;  /* [nlocal+nghost] or NULL */
  double *vatom;  /* [nlocal+nghost][6] or NULL */
  double *cvatom; /* [nlocal+nghost][9] or NULL */
  int32_t deviation; /* evaluate the whole committee this step */
  const void *tag;   /* [nlocal+nghost] LAMMPS atom ids (tagint), or NULL;
                        only used to name atoms in messages */
  int32_t tag_bytes; /* sizeof(tagint): 4 or 8 */
  /* results */
  double energy;
  double virial[6];
  int64_t dropped;          /* neighbours beyond a type_sel section */
  int64_t centres_dropping; /* centres that lost one */
  double rmin;              /* the model's dprs.rmin in Å, or -1 if it has none */
  int64_t too_close;        /* centres with a neighbour closer than rmin */
  double closest;           /* the closest such distance (Å) on this rank */
  int64_t closest_ids[2];   /* ids of that pair (centre, neighbour) */
} dprs_step;

dprs_pair *dprs_create(int32_t narg, const char *const *arg, char *err, size_t errlen);
int32_t dprs_coeff(dprs_pair *pair, int32_t narg, const char *const *arg, int32_t ntypes,
                   char *err, size_t errlen);
int32_t dprs_init(const dprs_pair *pair, const char *units, int32_t newton_pair, char *err,
                  size_t errlen);
/* *cutoff = the model's rcut (0 on failure). */
int32_t dprs_cutoff(const dprs_pair *pair, double *cutoff, char *err, size_t errlen);
/* The one-line summary for the log in buf; on failure buf holds the reason. */
int32_t dprs_summary(const dprs_pair *pair, char *buf, size_t len);
int32_t dprs_compute(dprs_pair *pair, dprs_step *step, char *err, size_t errlen);
void dprs_destroy(dprs_pair *pair);

/* Model deviation of a committee (several models). On steps where
 * dprs_deviation_due() is true, dprs_compute() (with step.deviation = 1)
 * fills a buffer [nlocal+nghost][nmodels][3] of every model's forces; the
 * shim reverse-communicates it (comm_reverse = 3 * nmodels), then
 * dprs_deviation_local() reduces the local atoms, and rank 0 writes the line
 * from the globally reduced numbers with dprs_deviation_write(). */
/* The number of models (>= 1), or -1 on failure. */
int32_t dprs_nmodels(const dprs_pair *pair);
/* 1 or 0, or -1 on failure. */
int32_t dprs_deviation_due(const dprs_pair *pair, int64_t step);
/* 1 or 0, or -1 on failure. */
int32_t dprs_deviation_atomic(const dprs_pair *pair);
/* The committee force buffer of this step, or NULL on failure. */
double *dprs_deviation_forces(dprs_pair *pair);
int32_t dprs_deviation_open(dprs_pair *pair, char *err, size_t errlen);
/* stats = (max, min, sum) of the local force deviations; virials =
 * [nmodels][9] of this rank; sigma (optional) = the local deviations. stats
 * start as (0, DBL_MAX, 0), virials as 0 and *sigma as NULL, so they are
 * defined (and neutral for the reductions) even on failure. */
int32_t dprs_deviation_local(dprs_pair *pair, int32_t nlocal, double *stats, double *virials,
                             const double **sigma, char *err, size_t errlen);
int32_t dprs_deviation_write(dprs_pair *pair, int64_t step, int64_t natoms, const double *stats,
                             const double *virials, int64_t nper, const int64_t *ids,
                             const double *sigma, char *err, size_t errlen);
/* A static string; "" on failure. */
const char *dprs_version(void);

/* fix dprs/diffusion (lammps-plugin/src/fix.rs): the shim gathers the
 * group's atoms on rank 0 and passes them in; the analysis is Rust's. */
typedef struct dprs_fix dprs_fix;
/* All fix arguments (fix ID group dprs/diffusion ...); *nevery and
 * *write_every get the sampling and writing intervals (steps). NULL on failure. */
dprs_fix *dprs_fix_create(int32_t narg, const char *const *arg, int64_t *nevery,
                          int64_t *write_every, char *err, size_t errlen);
/* Every run's init, every rank: units and timestep (ps) checked; root = 1 on
 * rank 0, which makes the accumulators. */
int32_t dprs_fix_init(dprs_fix *fix, const char *units, double dt, int32_t root, char *err,
                      size_t errlen);
/* Rank 0: n atoms x 11 doubles (id, type, x y z, ix iy iz, vx vy vz) in any
 * order; box origin, edge lengths, tilts (xy xz yz). */
int32_t dprs_fix_sample(dprs_fix *fix, int64_t step, int64_t n, const double *atoms,
                        const double *boxlo, const double *len, const double *tilt, char *err,
                        size_t errlen);
/* Rank 0: D_x, D_y, D_z, D (A^2/ps, NaN until known), samples, bytes held;
 * returns how many values were written (0 on failure). */
int32_t dprs_fix_vector(dprs_fix *fix, double *out, int32_t len);
/* Rank 0: writes the output files so far, each atomically. */
int32_t dprs_fix_write(dprs_fix *fix, char *err, size_t errlen);
void dprs_fix_destroy(dprs_fix *fix);

/* Defined in the C++ shim, called from Rust's lammpsplugin_init; lets no
   C++ exception escape. */
#ifdef __cplusplus
void dprs_register(void *lmp, void *regfunc, void *handle) noexcept;
#else
void dprs_register(void *lmp, void *regfunc, void *handle);
#endif

#ifdef __cplusplus
}
#endif

/* Layout of dprs_step on LP64 targets: every field, in order, with its
 * offset. lammps-plugin/build.rs reads these lines and the struct above: a
 * field without its line fails the build, and the offsets are asserted
 * again on the Rust struct (which must have exactly these fields). */
#ifdef __cplusplus
#define DPRS_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#define DPRS_ABI_ALIGNOF(t) alignof(t)
#else
#define DPRS_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#define DPRS_ABI_ALIGNOF(t) _Alignof(t)
#endif
#define DPRS_ABI_OFFSET(field, off) \
  DPRS_ABI_ASSERT(offsetof(dprs_step, field) == (off), "dprs_step." #field " moved: update abi.rs too")
DPRS_ABI_ASSERT(sizeof(void *) == 8, "dprs_abi.h assumes 64-bit pointers");
DPRS_ABI_ASSERT(sizeof(double) == 8, "dprs_abi.h assumes 64-bit doubles");
DPRS_ABI_ASSERT(sizeof(dprs_step) == 232, "dprs_step changed size: update abi.rs too");
DPRS_ABI_ASSERT(DPRS_ABI_ALIGNOF(dprs_step) == 8, "dprs_step changed alignment: update abi.rs too");
DPRS_ABI_OFFSET(timestep, 0);
DPRS_ABI_OFFSET(nlocal, 8);
DPRS_ABI_OFFSET(nghost, 12);
DPRS_ABI_OFFSET(x, 16);
DPRS_ABI_OFFSET(type, 24);
DPRS_ABI_OFFSET(inum, 32);
DPRS_ABI_OFFSET(ilist, 40);
DPRS_ABI_OFFSET(numneigh, 48);
DPRS_ABI_OFFSET(firstneigh, 56);
DPRS_ABI_OFFSET(f, 64);
DPRS_ABI_OFFSET(eatom, 72);
DPRS_ABI_OFFSET(vatom, 80);
DPRS_ABI_OFFSET(cvatom, 88);
DPRS_ABI_OFFSET(deviation, 96);
DPRS_ABI_OFFSET(tag, 104);
DPRS_ABI_OFFSET(tag_bytes, 112);
DPRS_ABI_OFFSET(energy, 120);
DPRS_ABI_OFFSET(virial, 128);
DPRS_ABI_OFFSET(dropped, 176);
DPRS_ABI_OFFSET(centres_dropping, 184);
DPRS_ABI_OFFSET(rmin, 192);
DPRS_ABI_OFFSET(too_close, 200);
DPRS_ABI_OFFSET(closest, 208);
DPRS_ABI_OFFSET(closest_ids, 216);
#undef DPRS_ABI_OFFSET
#undef DPRS_ABI_ASSERT
#undef DPRS_ABI_ALIGNOF

#endif
