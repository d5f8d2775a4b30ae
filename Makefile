# Pinn — physics-informed PDE solvers in C# on TorchSharp.
#   make run    restore, build and train the default problem (about a minute on 2 CPU cores)
#   make test   the unit, regression and bad-input tests (under 10 minutes on 2 cores)
#   make test-long  the long pinned trainings (Burgers, causal ablation, PIG Helmholtz, memory, time marching: ~10 min)
#   make test-slurm the end-to-end sweep through a real one-node Slurm (installs Debian's Slurm; root)
#   make bench  timing benchmarks -> results/bench.md + bench.json (ARGS="--only pinn|peers|derivatives|memory|gp|gpcg|optim|lm --quick --threads 2")
#   make bench-peers  install the PyTorch peer baseline (Debian python3-torch + OpenBLAS; as root)
DOTNET  ?= dotnet
CONFIG  ?= Release
PINN    := src/Pinn.Cli/bin/$(CONFIG)/net10.0/linux-x64/Pinn.Cli
BENCH   := src/Pinn.Bench/bin/$(CONFIG)/net10.0/linux-x64/Pinn.Bench
RUN     ?= problems/burgers/burgers_quick.yaml

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1

.PHONY: build run test test-long test-slurm bench bench-peers clean

build:
	$(DOTNET) build Pinn.sln -c $(CONFIG) -v quiet -nologo

run: build
	$(PINN) run $(RUN) $(ARGS)

bench: build
	$(BENCH) $(ARGS)

# Debian's python3-torch alone runs on reference BLAS, ~5-10x slower than it should be:
# libopenblas0-openmp makes the peer baseline fair. The suite says "skipped: no torch" without them.
bench-peers:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch libopenblas0-openmp

TEST := $(DOTNET) test tests/Pinn.Tests/Pinn.Tests.csproj -c $(CONFIG) -nologo --logger "console;verbosity=normal"

# Tests of a few minutes' training each carry [Trait("Duration", "Long")]: they run in test-long (and in CI), not in test.
test:
	$(TEST) --filter "Duration!=Long&Category!=Slurm"

test-long:
	$(TEST) --filter "Duration=Long"

# The Slurm test skips (with the reason) where scripts/slurm/install.sh cannot install Slurm (no root, no apt).
test-slurm:
	$(TEST) --filter "Category=Slurm"

clean:
	$(DOTNET) clean Pinn.sln -c $(CONFIG) -v quiet -nologo
	rm -rf src/*/bin src/*/obj problems/bin problems/obj tests/*/bin tests/*/obj
