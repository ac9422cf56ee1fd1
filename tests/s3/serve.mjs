// The S3 stand-in for Eddy's tests: s3rver (a fake S3 server for node) on loopback, storing objects under a folder.
//   node --openssl-legacy-provider serve.mjs <folder> [bucket...]
// (s3rver makes the continuation tokens of long listings with DES, in OpenSSL 3's legacy provider.)
// Prints one line "s3rver listening on http://127.0.0.1:<port>" once it serves; ends when its standard input closes
// (the test process that started it ended, however it ended) or on SIGTERM. EDDY_S3RVER_LOG=1 logs every request.
import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
if (!directory) {
  console.error('usage: node serve.mjs <folder> [bucket...]');
  process.exit(2);
}
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: !process.env.EDDY_S3RVER_LOG,
  configureBuckets: buckets.map(name => ({ name })),
});
const { port } = await server.run();
console.log(`s3rver listening on http://127.0.0.1:${port}`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
