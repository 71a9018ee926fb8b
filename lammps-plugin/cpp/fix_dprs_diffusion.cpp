// fix dprs/diffusion: in-situ MSD per axis (and VACF/VDOS) with the analysis
// code of postproc. A thin LAMMPS Fix: every N steps it gathers the group's
// atoms (id, type, x, image flags, v) to MPI rank 0, where Rust
// (lammps-plugin/src/fix.rs, dprs_analysis::insitu) sorts them by id and
// feeds the accumulators; results therefore do not depend on the rank count.
// No analysis here. Atom arrays come through the C library API, as in
// pair_dprs.cpp (atom.h of the pip wheel is not usable).

#include "dprs_abi.h"

#include "comm.h"
#include "domain.h"
#include "error.h"
#include "fix.h"
#include "library.h"
#include "update.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace LAMMPS_NS {

static constexpr size_t FIX_ERRLEN = 4096;
static constexpr int FIX_NVEC = 6;

class FixDprsDiffusion : public Fix {
 public:
  FixDprsDiffusion(LAMMPS *lmp, int narg, char **arg) : Fix(lmp, narg, arg)
  {
    char err[FIX_ERRLEN] = {0};
    int64_t every = 0, wevery = 0;
    // Parsing is the same on every rank, so is its outcome: error->all is safe.
    handle = dprs_fix_create(narg, arg, &every, &wevery, err, FIX_ERRLEN);
    if (!handle) error->all(FLERR, std::string(err));
    if (every > MAXSMALLINT || wevery > MAXSMALLINT)
      error->all(FLERR, "fix dprs/diffusion: N or write_every is too large");
    nevery = (int) every;
    write_every = wevery;
    vector_flag = 1;
    size_vector = FIX_NVEC;
    global_freq = nevery;
    extvector = 0;
    // samples must stay N steps apart: LAMMPS then refuses reset_timestep
    time_depend = 1;
    for (double &v : vec) v = std::nan("");
    vec[4] = vec[5] = 0.0;
  }

  ~FixDprsDiffusion() override
  {
    if (handle) dprs_fix_destroy(handle);
  }

  int setmask() override { return FixConst::END_OF_STEP; }

  void init() override
  {
    char err[FIX_ERRLEN] = {0};
    int rc = dprs_fix_init(handle, update->unit_style, update->dt, comm->me == 0 ? 1 : 0, err,
                           FIX_ERRLEN);
    agree(rc, err);
  }

  // Start of a run: the first sample, as a dump writes its first frame.
  void setup(int) override
  {
    if (update->ntimestep % nevery == 0) sample();
  }

  void end_of_step() override
  {
    sample();
    if (write_every > 0 && update->ntimestep % write_every == 0) write();
  }

  // End of every run (called for all fixes): the files of the run so far.
  void post_run() override { write(); }

  double compute_vector(int i) override { return (i >= 0 && i < FIX_NVEC) ? vec[i] : 0.0; }

 private:
  dprs_fix *handle = nullptr;
  bigint write_every = 0;
  bigint last_sampled = -1;
  double vec[FIX_NVEC];

  // Rank 0's outcome (rc, err) becomes every rank's; error->all on failure.
  void agree(int rc, char *err)
  {
    int bad = rc != 0 ? comm->me : comm->nprocs, first_bad = comm->nprocs;
    MPI_Allreduce(&bad, &first_bad, 1, MPI_INT, MPI_MIN, world);
    if (first_bad < comm->nprocs) {
      MPI_Bcast(err, FIX_ERRLEN, MPI_CHAR, first_bad, world);
      err[FIX_ERRLEN - 1] = 0;
      error->all(FLERR, std::string(err));
    }
  }

  void sample()
  {
    if (update->ntimestep == last_sampled) return;
    last_sampled = update->ntimestep;
    const int nlocal = lammps_extract_setting(lmp, "nlocal");
    auto tag = static_cast<tagint *>(lammps_extract_atom(lmp, "id"));
    auto type = static_cast<int *>(lammps_extract_atom(lmp, "type"));
    auto mask = static_cast<int *>(lammps_extract_atom(lmp, "mask"));
    auto image = static_cast<imageint *>(lammps_extract_atom(lmp, "image"));
    auto x = static_cast<double **>(lammps_extract_atom(lmp, "x"));
    auto v = static_cast<double **>(lammps_extract_atom(lmp, "v"));
    if (nlocal > 0 && !(tag && type && mask && image && x && v))
      error->one(FLERR, "fix dprs/diffusion: internal error (atom arrays missing)");

    std::vector<double> mine;
    if (nlocal > 0) mine.reserve(static_cast<size_t>(nlocal) * 11);
    for (int i = 0; i < nlocal; i++) {
      if (!(mask[i] & groupbit)) continue;
      const imageint im = image[i];
      const int ix = (int) (im & IMGMASK) - IMGMAX;
      const int iy = (int) ((im >> IMGBITS) & IMGMASK) - IMGMAX;
      const int iz = (int) (im >> IMG2BITS) - IMGMAX;
      const double row[11] = {(double) tag[i], (double) type[i], x[i][0], x[i][1], x[i][2],
                              (double) ix,     (double) iy,      (double) iz, v[i][0], v[i][1],
                              v[i][2]};
      mine.insert(mine.end(), row, row + 11);
    }
    const int n = (int) mine.size();
    std::vector<int> counts(comm->nprocs, 0), displs(comm->nprocs, 0);
    MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, world);
    std::vector<double> all;
    if (comm->me == 0) {
      long total = 0;
      for (int r = 0; r < comm->nprocs; r++) {
        displs[r] = (int) total;
        total += counts[r];
      }
      if (total > MAXSMALLINT)
        error->one(FLERR, "fix dprs/diffusion: the group is too large to gather on one rank");
      all.resize((size_t) total);
    }
    MPI_Gatherv(mine.data(), n, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE,
                0, world);

    char err[FIX_ERRLEN] = {0};
    int rc = 0;
    if (comm->me == 0) {
      const double len[3] = {domain->xprd, domain->yprd, domain->zprd};
      const double tilt[3] = {domain->xy, domain->xz, domain->yz};
      rc = dprs_fix_sample(handle, (int64_t) update->ntimestep, (int64_t) (all.size() / 11),
                           all.data(), domain->boxlo, len, tilt, err, FIX_ERRLEN);
      if (rc == 0) dprs_fix_vector(handle, vec, FIX_NVEC);
    }
    agree(rc, err);
    MPI_Bcast(vec, FIX_NVEC, MPI_DOUBLE, 0, world);
  }

  void write()
  {
    char err[FIX_ERRLEN] = {0};
    int rc = comm->me == 0 ? dprs_fix_write(handle, err, FIX_ERRLEN) : 0;
    agree(rc, err);
  }
};

}    // namespace LAMMPS_NS

extern "C" void *dprs_fix_diffusion_creator(void *lmp, int argc, char **argv)
{
  return new LAMMPS_NS::FixDprsDiffusion(static_cast<LAMMPS_NS::LAMMPS *>(lmp), argc, argv);
}
