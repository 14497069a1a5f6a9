// Runs T(R) for a tile of `rows` tokens with R a compile-time constant, so each row count is its own
// copy of an always-inline tile (no work for absent rows, no test inside its loop).
#ifndef QQQ_TILE_ROWS_H
#define QQQ_TILE_ROWS_H
#define QQQ_TILE_ROWS_4(rows, T)                                                         \
    switch (rows) {                                                                      \
    case 4: T(4); break;                                                                 \
    case 3: T(3); break;                                                                 \
    case 2: T(2); break;                                                                 \
    default: T(1); break;                                                                \
    }
#define QQQ_TILE_ROWS_6(rows, T)                                                         \
    switch (rows) {                                                                      \
    case 6: T(6); break;                                                                 \
    case 5: T(5); break;                                                                 \
    default: QQQ_TILE_ROWS_4(rows, T); break;                                            \
    }
#define QQQ_TILE_ROWS_10(rows, T)                                                        \
    switch (rows) {                                                                      \
    case 10: T(10); break;                                                               \
    case 9: T(9); break;                                                                 \
    case 8: T(8); break;                                                                 \
    case 7: T(7); break;                                                                 \
    default: QQQ_TILE_ROWS_6(rows, T); break;                                            \
    }
#endif
