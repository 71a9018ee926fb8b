/* The C ABI between the C++ pair class and the Rust library.
 * The shim only marshals LAMMPS arrays; every decision and all physics are
 * made in Rust. Functions returning int give 0 on success and fill `err`
 * (NUL-terminated, at most errlen bytes) otherwise. No Rust panic crosses
 * this boundary. Keep in sync with lammps-plugin/src/abi.rs. */
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
double dprs_cutoff(const dprs_pair *pair);
void dprs_summary(const dprs_pair *pair, char *buf, size_t len);
int32_t dprs_compute(dprs_pair *pair, dprs_step *step, char *err, size_t errlen);
void dprs_destroy(dprs_pair *pair);

/* Model deviation of a committee (several models). On steps where
 * dprs_deviation_due() is true, dprs_compute() (with step.deviation = 1)
 * fills a buffer [nlocal+nghost][nmodels][3] of every model's forces; the
 * shim reverse-communicates it (comm_reverse = 3 * nmodels), then
 * dprs_deviation_local() reduces the local atoms, and rank 0 writes the line
 * from the globally reduced numbers with dprs_deviation_write(). */
int32_t dprs_nmodels(const dprs_pair *pair);
int32_t dprs_deviation_due(const dprs_pair *pair, int64_t step);
int32_t dprs_deviation_atomic(const dprs_pair *pair);
double *dprs_deviation_forces(dprs_pair *pair);
int32_t dprs_deviation_open(dprs_pair *pair, char *err, size_t errlen);
/* stats = (max, min, sum) of the local force deviations; virials =
 * [nmodels][9] of this rank; sigma (optional) = the local deviations. */
void dprs_deviation_local(dprs_pair *pair, int32_t nlocal, double *stats, double *virials,
                          const double **sigma);
int32_t dprs_deviation_write(dprs_pair *pair, int64_t step, int64_t natoms, const double *stats,
                             const double *virials, int64_t nper, const int64_t *ids,
                             const double *sigma, char *err, size_t errlen);
const char *dprs_version(void);

/* Defined in the C++ shim, called from Rust's lammpsplugin_init. */
void dprs_register(void *lmp, void *regfunc, void *handle);

#ifdef __cplusplus
}
#endif
#endif
