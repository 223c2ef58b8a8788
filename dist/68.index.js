export const id = 68;
export const ids = [68];
export const modules = {

/***/ 4068:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   openPglite: () => (/* binding */ openPglite)
/* harmony export */ });
/* harmony import */ var _electric_sql_pglite__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7556);
/* harmony import */ var _rpc_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(7878);
// The local default: an embedded Postgres (PGlite, WebAssembly) in a data folder.


async function openPglite(dataDir) {
    const db = dataDir ? await _electric_sql_pglite__WEBPACK_IMPORTED_MODULE_0__.PGlite.create(dataDir) : await _electric_sql_pglite__WEBPACK_IMPORTED_MODULE_0__.PGlite.create();
    return {
        label: dataDir ? `PGlite (${dataDir})` : 'PGlite (in memory)',
        async call(fn, payload) {
            const { rows } = await db.query((0,_rpc_js__WEBPACK_IMPORTED_MODULE_1__/* .rpcStatement */ .V)(fn), [JSON.stringify(payload)]);
            return rows[0].r;
        },
        async exec(sql) {
            await db.exec(sql);
        },
        async query(sql, params = []) {
            return (await db.query(sql, params)).rows;
        },
        async close() {
            await db.close();
        },
    };
}


/***/ })

};
