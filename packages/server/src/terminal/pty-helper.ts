/**
 * The PTY lives inside the sandbox (ADR 0008). This Perl program (perl-base is Essential on Debian, so it is
 * in every host /usr the sandbox mounts) opens a pseudo-terminal on the sandbox's own devpts, starts the
 * shell as a session leader with the PTY as its controlling terminal, and relays bytes. Its stdin carries
 * frames from Kiln — `i` + u32 length + bytes to type, or `r` + u32 4 + u16 rows + u16 cols to resize —
 * because a pipe cannot carry a window size. Exits with the shell's status (128 + n for signal n).
 *
 * ioctl numbers are the generic Linux ones (x86, arm); other architectures differ.
 */
export const PTY_HELPER = String.raw`
use strict; use warnings; use POSIX ();
my ($SPTLCK, $GPTN, $SCTTY, $SWINSZ) = (0x40045431, 0x80045430, 0x540E, 0x5414);
my ($rows, $cols, @cmd) = @ARGV;
sysopen(my $m, "/dev/ptmx", POSIX::O_RDWR() | POSIX::O_NOCTTY()) or die "kiln-pty: /dev/ptmx: $!\n";
my $u = pack("i", 0); ioctl($m, $SPTLCK, $u) or die "kiln-pty: unlockpt: $!\n";
my $n = pack("i", 0); ioctl($m, $GPTN, $n) or die "kiln-pty: ptsname: $!\n"; $n = unpack("i", $n);
my $ws = pack("S4", $rows, $cols, 0, 0); ioctl($m, $SWINSZ, $ws);
my $pid = fork() // die "kiln-pty: fork: $!\n";
if (!$pid) {
  POSIX::setsid();
  sysopen(my $s, "/dev/pts/$n", POSIX::O_RDWR()) or die "kiln-pty: pts: $!\n";
  ioctl($s, $SCTTY, 0);
  POSIX::dup2(fileno($s), $_) for 0 .. 2;
  exec { $cmd[0] } @cmd or die "kiln-pty: exec $cmd[0]: $!\n";
}
$SIG{PIPE} = "IGNORE";
my ($in, $buf, $open) = ("", "", 1);
sub put { my ($fh, $data) = @_; my $off = 0; while ($off < length $data) { my $w = syswrite($fh, $data, length($data) - $off, $off); return unless defined $w; $off += $w; } }
while (1) {
  my $r = ""; vec($r, fileno($m), 1) = 1; vec($r, 0, 1) = 1 if $open;
  if (select($r, undef, undef, undef) < 0) { next if $!{EINTR}; last; }
  if (vec($r, fileno($m), 1)) { my $got = sysread($m, $buf, 65536); last unless $got; put(\*STDOUT, $buf); }
  if ($open && vec($r, 0, 1)) {
    my $got = sysread(STDIN, $buf, 65536);
    if (!$got) { $open = 0; kill "HUP", -$pid; next; }
    $in .= $buf;
    while (length($in) >= 5) {
      my ($t, $len) = unpack("a N", $in);
      last if length($in) < 5 + $len;
      my $body = substr($in, 5, $len); $in = substr($in, 5 + $len);
      if ($t eq "i") { put($m, $body); }
      elsif ($t eq "r" && $len == 4) { my ($rr, $cc) = unpack("n n", $body); my $z = pack("S4", $rr, $cc, 0, 0); ioctl($m, $SWINSZ, $z); }
    }
  }
}
waitpid($pid, 0);
exit(POSIX::WIFEXITED($?) ? POSIX::WEXITSTATUS($?) : 128 + POSIX::WTERMSIG($?));
`;

function frame(type: "i" | "r", body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

export function inputFrame(data: string): Buffer {
  return frame("i", Buffer.from(data, "utf8"));
}

export function resizeFrame(cols: number, rows: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt16BE(rows, 0);
  body.writeUInt16BE(cols, 2);
  return frame("r", body);
}

/** argv for the driver: the helper, the initial size, then the shell. */
export function ptyArgv(cols: number, rows: number, shell: string[]): string[] {
  return ["/usr/bin/perl", "-e", PTY_HELPER, String(rows), String(cols), ...shell];
}
