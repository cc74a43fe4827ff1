"""Socket.IO: connect auth, rooms and the bridge from domain events to pushes."""
