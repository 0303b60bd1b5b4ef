import * as tf from '@tensorflow/tfjs-core';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm'); await tf.ready();
console.log(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
const a=tf.randomNormal([1024,256]), b=tf.randomNormal([256,1024]);
for (let i=0;i<8;i++){ const s=performance.now(); const c=tf.matMul(a,b); c.dataSync(); c.dispose(); console.log((performance.now()-s).toFixed(1)); }
