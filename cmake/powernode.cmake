# Shared build settings: warnings, sanitizers, and the helper that builds a plugin.

set(PN_WARNINGS
  -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
  -Wcast-qual -Wformat=2 -Wvla -Wimplicit-fallthrough -fno-common)

add_compile_options(${PN_WARNINGS})
add_compile_definitions(_GNU_SOURCE)

if(PN_SANITIZE)
  add_compile_options(-fsanitize=${PN_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PN_SANITIZE})
endif()

# pn_add_plugin(NAME name SOURCES ... [SQL_DIR dir])
# Builds NAME.so the way a third-party plugin is built: only the SDK headers, hidden
# visibility, every symbol resolved at link time (so a call into a kernel internal fails to
# link), and installs it with its migrations.
function(pn_add_plugin)
  cmake_parse_arguments(P "NO_INSTALL" "NAME;SQL_DIR" "SOURCES;LIBS" ${ARGN})
  add_library(plugin_${P_NAME} MODULE ${P_SOURCES})
  set_target_properties(plugin_${P_NAME} PROPERTIES
    PREFIX "" OUTPUT_NAME ${P_NAME}
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/plugins
    C_VISIBILITY_PRESET hidden)
  target_include_directories(plugin_${P_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/kernel/include)
  target_link_libraries(plugin_${P_NAME} PRIVATE PkgConfig::JANSSON ${P_LIBS})
  if(NOT PN_SANITIZE)
    target_link_options(plugin_${P_NAME} PRIVATE -Wl,-z,defs)
  endif()
  # The build tree mirrors the install layout, so a server run from the build finds the
  # migrations with paths.plugin_data = <build>/share/plugins.
  if(P_SQL_DIR)
    get_filename_component(sql_abs ${P_SQL_DIR} ABSOLUTE)
    add_custom_command(TARGET plugin_${P_NAME} POST_BUILD
      COMMAND ${CMAKE_COMMAND} -E copy_directory ${sql_abs}
              ${CMAKE_BINARY_DIR}/share/plugins/${P_NAME}/sql)
  endif()
  if(NOT P_NO_INSTALL)
    install(TARGETS plugin_${P_NAME} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/powernode/plugins)
    if(P_SQL_DIR)
      install(DIRECTORY ${P_SQL_DIR}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/powernode/plugins/${P_NAME}/sql
        FILES_MATCHING PATTERN "*.sql")
    endif()
  endif()
endfunction()

# pn_add_cunit_test(NAME name SOURCES ... LIBS ... [LABELS ...])
function(pn_add_cunit_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT PN_BUILD_TESTS)
    return()
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} PkgConfig::CUNIT)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  if(T_LABELS)
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
