// botbau-worker: the second PM2 app of the deployment (queues outgoing WhatsApp messages). It
// runs beside the web app from the same release and must never be restarted by the agent.
'use strict';
let ticks = 0;
console.log('worker started');
setInterval(() => { ticks += 1; if (ticks % 60 === 0) console.log(`worker alive, ${ticks} ticks`); }, 1000);
