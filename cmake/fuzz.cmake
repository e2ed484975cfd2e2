# libFuzzer targets (-DTB_FUZZ=ON, clang only; scripts/fuzz.sh drives this in build-fuzz).
# Every object is built with -fsanitize=fuzzer-no-link,address,undefined so coverage reaches
# into the libraries; only the *_fuzz executables link the libFuzzer main. Each target links
# just the sources it exercises, so a half-written area elsewhere cannot break the fuzz build.
option(TB_FUZZ "Build the libFuzzer targets (requires clang)" OFF)
if(NOT TB_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "TB_FUZZ=ON needs clang (CC=clang CXX=clang++)")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                    -fno-omit-frame-pointer -g)
add_link_options(-fsanitize=address,undefined)

set(tb_fuzz_targets "")
# tb_fuzz(NAME <name> SOURCES <files relative to src/> LIBS <libs>)
function(tb_fuzz)
  cmake_parse_arguments(F "" "NAME" "SOURCES;LIBS" ${ARGN})
  list(TRANSFORM F_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/src/)
  add_executable(${F_NAME}_fuzz ${F_SOURCES})
  target_include_directories(${F_NAME}_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${F_NAME}_fuzz PRIVATE ${F_LIBS} Threads::Threads)
  target_link_options(${F_NAME}_fuzz PRIVATE -fsanitize=fuzzer)
  set(tb_fuzz_targets ${tb_fuzz_targets} ${F_NAME}_fuzz PARENT_SCOPE)
endfunction()

tb_fuzz(NAME s3_xml SOURCES storage/s3_xml_fuzz.cc storage/s3_xml.cc LIBS tb_util)
tb_fuzz(NAME pickle SOURCES dataset/pickle_fuzz.cc dataset/pickle.cc LIBS tb_util)
tb_fuzz(NAME manifest SOURCES dataset/manifest_fuzz.cc dataset/manifest.cc LIBS tb_util)
tb_fuzz(NAME archive SOURCES dataset/archive_fuzz.cc dataset/archive.cc dataset/gzip_reader.cc
        LIBS tb_util LibArchive::LibArchive PkgConfig::ISAL)
tb_fuzz(NAME config SOURCES pipeline/config_fuzz.cc pipeline/config.cc
        LIBS tb_util PkgConfig::TOMLPP nlohmann_json::nlohmann_json)
tb_fuzz(NAME state_dict SOURCES train/state_dict_fuzz.cc train/state_dict.cc dataset/pickle.cc LIBS tb_util)
tb_fuzz(NAME results SOURCES report/results_fuzz.cc report/results.cc report/compare.cc report/compare_json.cc
        report/breakeven.cc report/html.cc report/io_columns.cc report/scaling.cc report/stats.cc report/svg.cc report/table.cc
        report/text_table.cc
        LIBS tb_util nlohmann_json::nlohmann_json)
add_custom_target(fuzz DEPENDS ${tb_fuzz_targets})
