# Sourced by scripts/check-platforms and scripts/release: what each target
# needs on this machine (docs/ARCHITECTURE.md, "Platforms"), and where it
# builds.

# missing_for TARGET: prints why TARGET cannot be built here, or nothing.
missing_for() {
  if ! rustup target list --installed 2>/dev/null | grep -qx "$1"; then
    echo "its standard library is not installed (rustup target add $1, or scripts/check-platforms --install)"
    return
  fi
  case "$1" in
    *windows-gnu) command -v x86_64-w64-mingw32-gcc >/dev/null || echo "no MinGW linker (Debian: gcc-mingw-w64-x86-64)" ;;
    # ring's C, compiled for musl; rustc links with its own musl.
    *linux-musl) command -v musl-gcc >/dev/null || echo "no musl-gcc (Debian: musl-tools)" ;;
  esac
}

# target_dir TARGET: the default target builds in target/ (as cargo does
# here, .cargo/config.toml); each other one in its own directory, so a
# switch of target never invalidates another's build.
target_dir() { [ "$1" = x86_64-unknown-linux-gnu ] && echo target || echo "target-$1"; }
