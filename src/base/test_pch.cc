// Compiles the precompiled gtest/gmock header that every unit test executable reuses
// (mf_test_pch in the top CMakeLists.txt). Intentionally empty.
