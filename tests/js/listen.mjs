// Connect with the official socket.io-client over WebSocket, subscribe to a room, print each
// push as one JSON line, and exit after the expected number of pushes (or a timeout).
import { io } from "socket.io-client";

const [url, token, room, expected = "1"] = process.argv.slice(2);
const socket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false });
let left = Number(expected);
const timer = setTimeout(() => { console.error("timeout"); process.exit(2); }, 15000);

socket.on("connect_error", (error) => { console.log(JSON.stringify({ connect_error: error.message })); process.exit(1); });
socket.on("connect", () => {
  socket.emit("subscribe", { room }, (ack) => console.log(JSON.stringify({ ack })));
});
socket.onAny((event, payload) => {
  console.log(JSON.stringify({ event, payload }));
  left -= 1;
  if (left === 0) { clearTimeout(timer); socket.close(); process.exit(0); }
});
