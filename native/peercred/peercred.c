// peercred: the kernel's view of who is on the other end of a connected Unix domain socket.
// peercred(fd) -> { uid, gid, pid }, read with SO_PEERCRED (Linux) or getpeereid + LOCAL_PEERPID
// (macOS, BSD): nothing the peer sends can influence it. Plus user/group look-ups to map ids to names.
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <pwd.h>
#include <grp.h>
#if defined(__APPLE__)
#include <sys/un.h>
#include <sys/ucred.h>
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, "EPEERCRED", msg);
  return NULL;
}

static napi_value set_int(napi_env env, napi_value obj, const char *key, double v) {
  napi_value n;
  if (napi_create_double(env, v, &n) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, key, n) != napi_ok) return NULL;
  return obj;
}

static napi_value peercred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "peercred(fd): fd is required");
    return NULL;
  }
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "peercred(fd): fd must be a non-negative integer");
    return NULL;
  }
  double uid, gid, pid = -1;
#if defined(__linux__)
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  if (len != sizeof cred) return throw_errno(env, "getsockopt(SO_PEERCRED) short read", EINVAL);
  uid = cred.uid;
  gid = cred.gid;
  pid = cred.pid;
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
  uid_t u;
  gid_t g;
  if (getpeereid(fd, &u, &g) != 0) return throw_errno(env, "getpeereid", errno);
  uid = u;
  gid = g;
#if defined(__APPLE__) && defined(LOCAL_PEERPID)
  pid_t p;
  socklen_t plen = sizeof p;
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &p, &plen) == 0) pid = p;
#endif
#else
  napi_throw_error(env, "EPEERCRED", "peer credentials are not supported on this platform");
  return NULL;
#endif
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  if (!set_int(env, obj, "uid", uid) || !set_int(env, obj, "gid", gid) || !set_int(env, obj, "pid", pid)) return NULL;
  return obj;
}

// Account database look-ups through NSS (so LDAP or sssd users resolve like they do for `id`).
// Arguments are a number (id) or a string (name); the result is null when there is no such entry.
static int arg_id_or_name(napi_env env, napi_value v, int *is_name, double *id, char *name, size_t cap) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_number) {
    *is_name = 0;
    return napi_get_value_double(env, v, id) == napi_ok;
  }
  if (t == napi_string) {
    size_t n;
    *is_name = 1;
    if (napi_get_value_string_utf8(env, v, name, cap, &n) != napi_ok) return 0;
    return n + 1 < cap;
  }
  return 0;
}

static napi_value lookup_user(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  char name[256];
  double id = 0;
  int is_name = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || !arg_id_or_name(env, argv[0], &is_name, &id, name, sizeof name)) {
    napi_throw_type_error(env, NULL, "user(uid | name)");
    return NULL;
  }
  struct passwd pw, *res = NULL;
  long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
  size_t bufsz = sz > 0 ? (size_t)sz : 16384;
  char *buf = malloc(bufsz);
  if (!buf) return throw_errno(env, "malloc", ENOMEM);
  int rc = is_name ? getpwnam_r(name, &pw, buf, bufsz, &res) : getpwuid_r((uid_t)id, &pw, buf, bufsz, &res);
  if (rc != 0 || res == NULL) {
    free(buf);
    napi_get_null(env, &result);
    return result;
  }
  napi_value str;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, pw.pw_name, NAPI_AUTO_LENGTH, &str);
  napi_set_named_property(env, result, "name", str);
  set_int(env, result, "uid", pw.pw_uid);
  set_int(env, result, "gid", pw.pw_gid);
  free(buf);
  return result;
}

static napi_value lookup_group(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  char name[256];
  double id = 0;
  int is_name = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || !arg_id_or_name(env, argv[0], &is_name, &id, name, sizeof name)) {
    napi_throw_type_error(env, NULL, "group(gid | name)");
    return NULL;
  }
  struct group gr, *res = NULL;
  size_t bufsz = 65536;
  char *buf = NULL;
  int rc;
  // Groups with many members can exceed any fixed buffer: grow on ERANGE.
  for (;;) {
    buf = malloc(bufsz);
    if (!buf) return throw_errno(env, "malloc", ENOMEM);
    rc = is_name ? getgrnam_r(name, &gr, buf, bufsz, &res) : getgrgid_r((gid_t)id, &gr, buf, bufsz, &res);
    if (rc != ERANGE || bufsz >= (1u << 24)) break;
    free(buf);
    bufsz *= 4;
  }
  if (rc != 0 || res == NULL) {
    free(buf);
    napi_get_null(env, &result);
    return result;
  }
  napi_value str;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, gr.gr_name, NAPI_AUTO_LENGTH, &str);
  napi_set_named_property(env, result, "name", str);
  set_int(env, result, "gid", gr.gr_gid);
  free(buf);
  return result;
}

// Supplementary groups of a user from the account database (getgrouplist), including `gid`.
static napi_value group_list(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  char name[256];
  size_t n;
  double gidd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n) != napi_ok || n + 1 >= sizeof name ||
      napi_get_value_double(env, argv[1], &gidd) != napi_ok) {
    napi_throw_type_error(env, NULL, "groups(name, gid)");
    return NULL;
  }
  int count = 64;
  for (int attempt = 0; attempt < 8; attempt++) {
#if defined(__APPLE__)
    int *list = malloc(sizeof(int) * count);
    if (!list) return throw_errno(env, "malloc", ENOMEM);
    int want = count;
    int rc = getgrouplist(name, (int)gidd, list, &want);
#else
    gid_t *list = malloc(sizeof(gid_t) * count);
    if (!list) return throw_errno(env, "malloc", ENOMEM);
    int want = count;
    int rc = getgrouplist(name, (gid_t)gidd, list, &want);
#endif
    if (rc >= 0) {
      napi_create_array_with_length(env, want, &result);
      for (int i = 0; i < want; i++) {
        napi_value v;
        napi_create_double(env, (double)(unsigned int)list[i], &v);
        napi_set_element(env, result, i, v);
      }
      free(list);
      return result;
    }
    free(list);
    count = want > count ? want : count * 4;
  }
  return throw_errno(env, "getgrouplist", ERANGE);
}

NAPI_MODULE_INIT() {
  napi_value f;
  if (napi_create_function(env, "user", NAPI_AUTO_LENGTH, lookup_user, NULL, &f) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "user", f) != napi_ok) return NULL;
  if (napi_create_function(env, "group", NAPI_AUTO_LENGTH, lookup_group, NULL, &f) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "group", f) != napi_ok) return NULL;
  if (napi_create_function(env, "groups", NAPI_AUTO_LENGTH, group_list, NULL, &f) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "groups", f) != napi_ok) return NULL;
  napi_value fn;
  if (napi_create_function(env, "peercred", NAPI_AUTO_LENGTH, peercred, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "peercred", fn) != napi_ok) return NULL;
  return exports;
}
