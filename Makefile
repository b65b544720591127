# Thin driver over CMake. The two commands a fresh Debian 12 machine needs:
#   make run    install missing packages, build, start mnemo on its default models
#   make test   install missing packages, build, run the whole ctest suite
# SANITIZE=1 builds with ASan + UBSan into build-asan/.

SANITIZE ?= 0
JOBS     ?= $(shell nproc)
ifeq ($(SANITIZE),1)
BUILD    ?= build-asan
CMAKE_FLAGS += -DMNEMO_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
else
BUILD    ?= build
endif
MNEMO    := $(BUILD)/mnemo
FIXTURES := tests/data

.PHONY: all deps configure build test run bench bench-loop format format-check clean

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

# The presenter comes with its issue; until then `make run` shows the engine at work on
# the default models (models/*-small.onnx): a sketch goes through the painter, the
# portrait through the sketcher. (`mnemo run --headless` runs the whole loop.)
run: build
	@mkdir -p out
	@$(MNEMO) inspect models/painter-small.onnx --chain models/sketcher-small.onnx
	@$(MNEMO) infer --model models/painter-small.onnx --input $(FIXTURES)/face_sketch.png \
	  --output out/portrait.png --bench 20
	@$(MNEMO) infer --model models/sketcher-small.onnx --input out/portrait.png \
	  --output out/sketch.png --bench 20
	@echo "mnemo: wrote out/portrait.png and out/sketch.png"

bench: build
	@tools/bench/cpu.sh

bench-loop: build
	@tools/bench/loop.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build.configure.log build-asan.configure.log
