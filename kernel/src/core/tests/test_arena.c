/* The arena: alignment, growth, big blocks, cleanups in reverse order. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "../arena.h"

void register_arena_tests(void);

static int order[4], norder;

static void
record(void *arg)
{
    order[norder++] = (int)(intptr_t)arg;
}

static void
test_arena_aligns_and_grows(void)
{
    pnk_arena_t *a = pnk_arena_new(64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    for (int i = 1; i < 2000; i++) {
        unsigned char *p = pnk_arena_alloc(a, (size_t)(i % 97) + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)(i % 97) + 1);
    }
    void *big = pnk_arena_alloc(a, 3 * 1024 * 1024);
    CU_ASSERT_PTR_NOT_NULL(big);
    CU_ASSERT_PTR_NULL(pnk_arena_alloc(a, (size_t)1 << 31));
    CU_ASSERT_PTR_NULL(pnk_arena_calloc(a, SIZE_MAX / 2, 4));
    pnk_arena_free(a);
}

static void
test_arena_strings(void)
{
    pnk_arena_t *a = pnk_arena_new(0);
    CU_ASSERT_STRING_EQUAL(pnk_arena_strdup(a, "abc"), "abc");
    CU_ASSERT_STRING_EQUAL(pnk_arena_strndup(a, "abcdef", 2), "ab");
    CU_ASSERT_STRING_EQUAL(pnk_arena_printf(a, "%d-%s", 42, "x"), "42-x");
    CU_ASSERT_PTR_NULL(pnk_arena_strdup(a, NULL));
    pnk_arena_free(a);
}

static void
test_arena_cleanups_run_in_reverse(void)
{
    pnk_arena_t *a = pnk_arena_new(0);
    norder = 0;
    for (int i = 1; i <= 3; i++)
        CU_ASSERT_EQUAL(pnk_arena_defer(a, record, (void *)(intptr_t)i), 0);
    pnk_arena_free(a);
    CU_ASSERT_EQUAL(norder, 3);
    CU_ASSERT_EQUAL(order[0], 3);
    CU_ASSERT_EQUAL(order[2], 1);
    pnk_arena_free(NULL);
}

void
register_arena_tests(void)
{
    CU_pSuite s = CU_add_suite("arena", NULL, NULL);
    CU_add_test(s, "aligns_and_grows", test_arena_aligns_and_grows);
    CU_add_test(s, "strings", test_arena_strings);
    CU_add_test(s, "cleanups_run_in_reverse", test_arena_cleanups_run_in_reverse);
}
