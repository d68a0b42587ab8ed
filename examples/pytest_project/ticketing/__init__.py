"""A ticket office: a server hands out numbered tickets, and each number must go to one
client only. ``scenario`` is correct; ``bug_reissue`` forgets the tickets it gave before a
restart, and gives a number twice."""
