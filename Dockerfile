# ptsim build/fuzz image: Debian 12 with exactly the packages tools/bootstrap.sh installs.
#
#   docker build -t ptsim .                               # toolchain + sources
#   docker build --build-arg PTSIM_RUN_TESTS=1 -t ptsim . # ... and fail the build unless tests pass
#   docker run --rm ptsim                                 # default: tools/run.sh (60 s campaign)
#   docker run --rm ptsim tools/run.sh --seconds 600 --json
#   docker run --rm ptsim tools/test.sh
FROM debian:12

# The same script as on a bare machine, so the two cannot drift. Copied on its own first: this
# layer is rebuilt only when the package list changes, not on every source edit.
COPY tools/bootstrap.sh /src/tools/bootstrap.sh
RUN bash /src/tools/bootstrap.sh && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# .dockerignore keeps build/ out: a host CMakeCache.txt would point at the host's paths.
COPY . /src

ARG PTSIM_RUN_TESTS=0
RUN if [ "$PTSIM_RUN_TESTS" = 1 ]; then bash tools/test.sh; fi

CMD ["bash", "tools/run.sh"]
