// run-onnx.js: an ONNX model (kd-export --onnx) in onnxruntime-node over
// rows printed by `kd-teacher -m MODEL --inputs DATA | kd-cat --inputs`
// (tests only). Usage: NODE_PATH=DIR node run-onnx.js MODEL.onnx K D < rows.csv
// prints the stream's header line and the first 2 + K column names, then per row "id,label," and the
// runtime's logits, each a float32 printed exactly (%.9g's digits), and
// on stderr the metadata the runtime read.
'use strict';
const ort = require('onnxruntime-node');
const fs = require('fs');

const [file, K, D] = [process.argv[2], +process.argv[3], +process.argv[4]];
const lines = fs.readFileSync(0, 'utf8').split('\n').filter(l => l.length);
const rows = lines.slice(2);
const x = new Float32Array(rows.length * D);
rows.forEach((l, r) => {
	const f = l.split(',');
	if (f.length !== 2 + K + D)
		throw new Error(`line ${r + 3}: ${f.length} fields, not ${2 + K + D}`);
	for (let j = 0; j < D; j++)
		x[r * D + j] = +f[2 + K + j];
});
(async () => {
	const s = await ort.InferenceSession.create(file);
	const out = await s.run({ input: new ort.Tensor('float32', x, [rows.length, D]) });
	const z = out.logits.data, p = out.probabilities.data;
	const txt = [lines[0], lines[1].split(',').slice(0, 2 + K).join(',')];
	rows.forEach((l, r) => {
		const f = l.split(',');
		let sum = 0;
		for (let k = 0; k < K; k++)
			sum += p[r * K + k];
		if (Math.abs(sum - 1) > 1e-5)
			throw new Error(`row ${r}: probabilities sum to ${sum}`);
		const v = Array.from(z.slice(r * K, (r + 1) * K), a => a.toPrecision(9));
		txt.push([f[0], f[1]].concat(v).join(','));
	});
	process.stdout.write(txt.join('\n') + '\n');
})().catch(e => { console.error('run-onnx: ' + e.message); process.exit(1); });
