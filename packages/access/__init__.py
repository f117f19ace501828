"""Access: HTTP Basic authentication and its throttle, private reads, consumer bans."""
