# Thin driver over CMake. The two commands a fresh Debian 12 machine needs:
#   make run    install missing packages, build, start mnemo on its default models
#   make test   install missing packages, build, run the whole ctest suite
# SANITIZE=1 builds with ASan + UBSan into build-asan/.

SANITIZE ?= 0
JOBS     ?= $(shell nproc)
# `make install`: where (the binary finds its models and shaders under PREFIX/share/mnemo)
PREFIX   ?= /usr/local
CMAKE_FLAGS += -DCMAKE_INSTALL_PREFIX=$(PREFIX)
# The default suite leaves out long runs (label slow: the soak, valgrind): CTEST_FLAGS= runs
# all, CTEST_FLAGS=-Lslow only those.
CTEST_FLAGS ?= -LE slow
ifeq ($(SANITIZE),1)
BUILD    ?= build-asan
CMAKE_FLAGS += -DMNEMO_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
else
BUILD    ?= build
endif
MNEMO    := $(BUILD)/mnemo
FIXTURES := tests/data

.PHONY: all deps configure build test run install deb bench bench-loop bench-present fuzz \
	fuzz-build valgrind format format-check clean

all: build

deps:
	@tools/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >$(BUILD).configure.log 2>&1 || \
	  { cat $(BUILD).configure.log; exit 1; }
	@grep -E 'mnemo backends|CMake Warning' -A1 $(BUILD).configure.log | sed 's/^-- //'

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

# `make run`: the piece full-screen on the display (Esc or q quits, h shows the HUD) on
# its default models (configs/default.cfg -> models/*-small.onnx). Without a display it
# records a short clip headless and says where it is.
RUN_CLIP ?= out/mnemo.mp4
run: build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  $(MNEMO) run --config configs/default.cfg; \
	else \
	  mkdir -p out; \
	  echo "mnemo: no display; recording the piece headless instead"; \
	  $(MNEMO) run --config configs/default.cfg --headless --frames 240 --out $(RUN_CLIP) \
	    -o capture.width=512 -o capture.height=512 --stats out/stats.jsonl && \
	  echo "mnemo: the piece, 240 frames (8 s at 30 fps): $(RUN_CLIP); its --stats: out/stats.jsonl"; \
	fi

# `make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage]`: bin/mnemo, share/mnemo (models,
# shaders, configs), etc/mnemo/kiosk.cfg, the systemd units and sysusers file (README:
# "Running a show").
install: build
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# `make deb [DEB_CUDA=1]`: the Debian package, built in build-deb/ (tools/deb/build.sh).
DEB_BUILD ?= build-deb
deb: deps
	@JOBS=$(JOBS) tools/deb/build.sh $(DEB_BUILD) $(if $(filter 1,$(DEB_CUDA)),--cuda)

bench: build
	@tools/bench/cpu.sh

bench-loop: build
	@tools/bench/loop.sh

bench-present: build
	@tools/bench/present.sh

# `make fuzz`: the libFuzzer targets of tools/fuzz/ (ONNX loader, config parser, OSC
# handler), built with clang + ASan + UBSan into build-fuzz/, each run FUZZ_SECONDS,
# FUZZ_PARALLEL at a time; corpora minimised into tools/fuzz/corpus/, findings copied to
# tools/fuzz/crashers/, numbers into bench/RESULTS.md. `make test` replays both.
FUZZ_SECONDS  ?= 600
FUZZ_PARALLEL ?= 2
FUZZ_TARGETS  ?= onnx config osc web
fuzz-build: deps
	@command -v clang >/dev/null && ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
	  >/dev/null 2>&1 || { echo "make fuzz needs clang with libFuzzer: tools/install-deps.sh --tools"; \
	  exit 1; }
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DMNEMO_FUZZ=ON -DMNEMO_WITH_CUDA=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo >build-fuzz.configure.log 2>&1 || \
	  { cat build-fuzz.configure.log; exit 1; }
	@cmake --build build-fuzz -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@tools/fuzz/run.sh --build build-fuzz --seconds $(FUZZ_SECONDS) --parallel $(FUZZ_PARALLEL) \
	  --results bench/RESULTS.md $(FUZZ_TARGETS)

# `make valgrind`: a short headless run and a short PNG recording under memcheck
# (tools/valgrind.sh; minutes: not part of `make test`).
valgrind: build
	@tools/valgrind.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-deb build-fuzz build.configure.log build-asan.configure.log \
	  build-deb.configure.log build-fuzz.configure.log
