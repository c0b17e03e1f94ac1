// Tests that need etcd start the real server; a missing binary is a failure, never a skip.
if (!Bun.which('etcd')) {
  throw new Error('etcd binary not found on PATH: install it (Debian: apt-get install -y etcd-server) and run the tests again');
}
