# Project warning set, applied per target with scrm_warnings(<target>).
function(scrm_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wnon-virtual-dtor)
  if(SCRM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# scrm_library(<name> SOURCES ... DEPS ...): defines scrm_<name> with alias scrm::<name>.
function(scrm_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(scrm_${name} STATIC ${ARG_SOURCES})
  add_library(scrm::${name} ALIAS scrm_${name})
  target_include_directories(scrm_${name} PUBLIC ${SCRM_ROOT_INCLUDE})
  target_link_libraries(scrm_${name} PUBLIC ${ARG_DEPS})
  scrm_warnings(scrm_${name})
endfunction()
