/**
 * Minimal typings for fengari 0.1.5 (Lua 5.3 in JavaScript), covering only what
 * `src/health/evaluate.ts` uses. fengari mirrors the Lua C API: functions take the state first and
 * work on the stack. Lua strings are byte arrays; most functions also accept a JS string.
 */
declare module 'fengari' {
  export type LuaString = Uint8Array;
  export interface LuaState {
    readonly __luaState: unique symbol;
  }
  export type LuaJsFunction = (L: LuaState) => number;
  export type LuaHook = (L: LuaState, ar: unknown) => void;

  export function to_luastring(s: string): LuaString;
  export function to_jsstring(s: LuaString): string;

  export const lua: {
    readonly LUA_OK: number;
    readonly LUA_MULTRET: number;
    readonly LUA_MASKCOUNT: number;
    readonly LUA_TNONE: number;
    readonly LUA_TNIL: number;
    readonly LUA_TBOOLEAN: number;
    readonly LUA_TNUMBER: number;
    readonly LUA_TSTRING: number;
    readonly LUA_TTABLE: number;
    lua_gettop(L: LuaState): number;
    lua_settop(L: LuaState, idx: number): void;
    lua_pop(L: LuaState, n: number): void;
    lua_pushnil(L: LuaState): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: LuaString | string): LuaString;
    lua_pushvalue(L: LuaState, idx: number): void;
    lua_pushcfunction(L: LuaState, f: LuaJsFunction): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_rawset(L: LuaState, idx: number): void;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    lua_checkstack(L: LuaState, n: number): boolean;
    lua_setfield(L: LuaState, idx: number, k: LuaString | string): void;
    lua_getfield(L: LuaState, idx: number, k: LuaString | string): number;
    lua_getglobal(L: LuaState, name: LuaString | string): number;
    lua_setglobal(L: LuaState, name: LuaString | string): void;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_type(L: LuaState, idx: number): number;
    lua_typename(L: LuaState, t: number): LuaString;
    lua_toboolean(L: LuaState, idx: number): boolean;
    lua_tonumber(L: LuaState, idx: number): number;
    lua_isinteger(L: LuaState, idx: number): boolean;
    lua_tojsstring(L: LuaState, idx: number): string;
    lua_next(L: LuaState, idx: number): number;
    lua_sethook(L: LuaState, f: LuaHook | null, mask: number, count: number): void;
  };

  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_requiref(L: LuaState, modname: LuaString | string, openf: LuaJsFunction, glb: boolean | number): void;
    luaL_getsubtable(L: LuaState, idx: number, fname: LuaString | string): boolean;
    luaL_loadbuffer(L: LuaState, buff: LuaString, size: number | null, name: LuaString | string): number;
    luaL_error(L: LuaState, fmt: LuaString | string, ...args: unknown[]): number;
    luaL_tolstring(L: LuaState, idx: number): LuaString;
  };

  export const lualib: {
    luaopen_base: LuaJsFunction;
    luaopen_package: LuaJsFunction;
    luaopen_table: LuaJsFunction;
  };
}
