# Finds every third-party library the way DEPENDENCIES.md says Debian 12 ships it.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(CURL REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(SQLiteCpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(pugixml REQUIRED)
find_package(CLI11 REQUIRED)
# CRoaring (libroaring-dev): roaring::roaring, the segment index's bitmaps (C++ wrapper roaring.hh).
find_package(roaring REQUIRED)
# cpp-httplib ships a compiled .so and no CMake config; its .pc carries the feature macros that
# every includer must see (otherwise class layouts differ from the library).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
# libmicrohttpd: scrmd's HTTP server (event-driven, suspend/resume); no CMake config either.
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
# jemalloc (libjemalloc-dev): scrmd's malloc, linked into the binary only (SCRM_JEMALLOC).
if(SCRM_JEMALLOC)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
endif()
if(SCRM_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
endif()
