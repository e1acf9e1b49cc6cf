"""test_broker_kafkajs -- kafkajs (npm, installed into .deps/node by scripts/deps.sh) against
build/rill-broker: admin topic creation, a gzip-compressed produce, and a consumer group
that reads everything back; then librdkafka reads the same records byte for byte."""

import os
import shutil
import subprocess

import pytest

import helpers
from test_broker_wire import rill_broker  # noqa: F401 (checks every broker stops cleanly)

KAFKAJS = os.path.join(helpers.source_dir(), ".deps", "node", "node_modules", "kafkajs")

SCRIPT = r"""
const { Kafka, logLevel, CompressionTypes } = require(process.argv[2]);
const [bs, topic, group] = process.argv.slice(3);
const kafka = new Kafka({ clientId: 'rill-kafkajs-test', brokers: [bs], logLevel: logLevel.ERROR });
(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  console.log('PARTITIONS', meta.topics[0].partitions.length);
  await admin.disconnect();

  const p = kafka.producer();
  await p.connect();
  const msgs = [];
  for (let i = 0; i < 300; i++) msgs.push({ key: 'k' + i, value: 'value-' + i, partition: i % 3,
                                            headers: { h: 'x' + i } });
  const r = await p.send({ topic, messages: msgs, compression: CompressionTypes.GZIP, acks: -1 });
  console.log('PRODUCED', r.map(x => x.errorCode).join(','));
  await p.disconnect();

  const c = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 500 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const seen = new Set();
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('consumed only ' + seen.size)), 40000);
    c.run({ eachMessage: async ({ message }) => {
      if (message.headers.h.toString() !== 'x' + message.key.toString().slice(1))
        reject(new Error('bad header'));
      seen.add(message.value.toString());
      if (seen.size === 300) { clearTimeout(t); resolve(); }
    } });
  });
  console.log('CONSUMED', seen.size);
  await c.disconnect();
})().catch(e => { console.error('FAIL', e && e.stack || e); process.exit(1); });
"""


def test_kafkajs_produce_and_consumer_group(rill_broker, topic_name, tmp_path):
    node = shutil.which("node") or shutil.which("nodejs")
    if not node or not os.path.isdir(KAFKAJS):
        pytest.skip("kafkajs not installed (run scripts/deps.sh --with-node)")
    b = rill_broker("-X", "group.initial.rebalance.delay.ms=0")
    script = tmp_path / "kjs.js"
    script.write_text(SCRIPT)
    r = subprocess.run([node, str(script), KAFKAJS, b.bootstrap, topic_name, "kjs-group"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90,
                       env=dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING="1"))
    out = r.stdout.decode()
    assert r.returncode == 0, out + r.stderr.decode()
    assert "PARTITIONS 3" in out
    assert "PRODUCED 0,0,0" in out
    assert "CONSUMED 300" in out
    got = helpers.consume_all(b.bootstrap, topic_name, 300)
    assert sorted(rec.value for rec in got) == sorted(b"value-%d" % i for i in range(300))
    assert all(rec.key == b"k%d" % int(rec.value[6:]) for rec in got)
