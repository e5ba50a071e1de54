#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# test-toml-suite.t: every TOML 1.0 case of the official toml-test suite (../shared/toml-test)
# through build/$BUILD/tools/toml-decode. A valid case must decode to its .json twin (compared as
# the suite's README says: integers and floats by value, date-times by the instant they name); an
# invalid case must be rejected with exit status 1 (a sanitizer report is a failure, not a rejection).
use strict;
use warnings;
use JSON::PP;
use Math::BigInt;

# The suite lives beside the project (../shared/toml-test), wherever the clone is.
my ($suite) = grep { -f "$_/files-toml-1.0.0" }
	grep { defined } ($ENV{TOML_TEST_DIR}, '../shared/toml-test/tests', '/work/shared/toml-test/tests');
$suite //= $ENV{TOML_TEST_DIR} // '../shared/toml-test/tests';
my $build = $ENV{COI_BUILD} // 'build/dev';
my $dec = "$build/tools/toml-decode";
$ENV{ASAN_OPTIONS} = 'exitcode=99:' . ($ENV{ASAN_OPTIONS} // '');
$ENV{UBSAN_OPTIONS} = 'exitcode=99:print_stacktrace=1:' . ($ENV{UBSAN_OPTIONS} // '');

# Not a skip: a TOML reader not held to the suite has not passed (TOML_TEST_DIR points elsewhere).
if (!-f "$suite/files-toml-1.0.0") {
	print "1..1\nnot ok 1 - the official toml-test suite is at $suite (set TOML_TEST_DIR)\n";
	exit 1;
}
die "no decoder at $dec\n" unless -x $dec;

open(my $list, '<', "$suite/files-toml-1.0.0") or die "$suite/files-toml-1.0.0: $!\n";
my @cases = grep { m{^(valid|invalid)/.*\.toml$} } map { chomp; $_ } <$list>;
close($list);

sub slurp { local $/; open(my $f, '<:raw', $_[0]) or return undef; my $s = <$f>; close($f); $s }

sub run_decoder {
	my ($file) = @_;
	my $pid = open(my $out, '-|') // die "fork: $!\n";
	if (!$pid) {
		open(STDIN, '<', $file) or exit 97;
		open(STDERR, '>', '/dev/null');
		exec('timeout', '10', $dec) or exit 98;
	}
	local $/;
	my $text = <$out>;
	close($out);
	return ($? >> 8, $text // '');
}

sub frac { my $f = shift // ''; $f =~ s/0+$//; $f }

# A date-time as something comparable: offset date-times become an instant (UTC seconds, fraction).
sub norm_dt {
	my ($type, $v) = @_;
	$v =~ s/^(\d{4}-\d\d-\d\d)[ tT]/$1T/;
	if ($type eq 'datetime') {
		my ($y, $mo, $d, $h, $mi, $s, $f, $off) =
		    $v =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?([zZ]|[+-]\d\d:\d\d)$/
		    or return "bad:$v";
		my $o = 0;
		if ($off =~ /^([+-])(\d\d):(\d\d)$/) { $o = ($2 * 60 + $3) * ($1 eq '-' ? -1 : 1) }
		# days from civil (Howard Hinnant's algorithm)
		my $yy = $mo <= 2 ? $y - 1 : $y;
		my $era = int($yy / 400);
		my $yoe = $yy - $era * 400;
		my $doy = int((153 * ($mo + ($mo > 2 ? -3 : 9)) + 2) / 5) + $d - 1;
		my $doe = $yoe * 365 + int($yoe / 4) - int($yoe / 100) + $doy;
		my $days = $era * 146097 + $doe - 719468;
		return ($days * 86400 + $h * 3600 + $mi * 60 + $s - $o * 60) . '.' . frac($f);
	}
	$v =~ s/\.(\d+)$/'.' . frac($1)/e;
	$v =~ s/\.$//;
	return $v;
}

sub tagged { my $x = shift; ref($x) eq 'HASH' && keys(%$x) == 2 && defined $x->{type} && !ref($x->{type}) && defined $x->{value} && !ref($x->{value}) }

sub same_scalar {
	my ($want, $got) = @_;
	my ($t, $w, $g) = ($want->{type}, $want->{value}, $got->{value});
	return "type $got->{type}, want $t" if $got->{type} ne $t;
	if ($t eq 'integer') {
		return Math::BigInt->new($w) == Math::BigInt->new($g) ? '' : "integer $g, want $w";
	}
	if ($t eq 'float') {
		for ($w, $g) { s/^\+//; s/^-nan$/nan/ }
		return '' if $w eq $g;
		return "float $g, want $w" if grep { /^-?(inf|nan)$/ } $w, $g;
		return $w == $g ? '' : "float $g, want $w";
	}
	if ($t =~ /^(datetime|datetime-local|date-local|time-local)$/) {
		return norm_dt($t, $w) eq norm_dt($t, $g) ? '' : "$t $g, want $w";
	}
	return $w eq $g ? '' : "$t '$g', want '$w'";
}

# Compare iteratively; returns '' or the first difference with its path.
sub compare {
	my @todo = ([$_[0], $_[1], '']);
	while (my $item = shift @todo) {
		my ($w, $g, $path) = @$item;
		if (tagged($w)) {
			return "$path: got a " . (ref($g) || 'scalar') . ", want a $w->{type}" unless tagged($g);
			my $d = same_scalar($w, $g);
			return "$path: $d" if $d;
		} elsif (ref($w) eq 'HASH') {
			return "$path: want a table" unless ref($g) eq 'HASH' && !tagged($g);
			my @wk = sort keys %$w;
			my @gk = sort keys %$g;
			return "$path: keys [@gk], want [@wk]" unless "@wk" eq "@gk" && @wk == @gk;
			push @todo, [$w->{$_}, $g->{$_}, "$path.$_"] for @wk;
		} elsif (ref($w) eq 'ARRAY') {
			return "$path: want an array" unless ref($g) eq 'ARRAY';
			return "$path: " . @$g . " elements, want " . @$w unless @$g == @$w;
			push @todo, [$w->[$_], $g->[$_], "$path\[$_]"] for 0 .. $#$w;
		} else {
			return "$path: unexpected JSON in the twin";
		}
	}
	return '';
}

my $json = JSON::PP->new->utf8->allow_nonref;
binmode(STDOUT, ":utf8");
my ($n, $failed) = (0, 0);
print '1..' . scalar(@cases) . "\n";
for my $case (@cases) {
	my $file = "$suite/$case";
	my ($rc, $out) = run_decoder($file);
	my $why = '';
	if ($case =~ /^valid/) {
		(my $twin = $file) =~ s/\.toml$/.json/;
		my $want = eval { $json->decode(slurp($twin)) };
		my $got = $rc == 0 ? eval { $json->decode($out) } : undef;
		if (!defined $want) { $why = "cannot read $twin" }
		elsif ($rc != 0) { $why = "rejected (exit $rc)" }
		elsif (!defined $got) { $why = 'decoder printed invalid JSON' }
		else { $why = compare($want, $got) }
	} elsif ($rc != 1) {
		$why = $rc == 0 ? 'accepted' : "exit $rc, want 1";
	}
	$n++;
	if ($why) { $failed++; $why =~ s/[^\x20-\x7e]/?/g; print "not ok $n - $case\n# $why\n" }
	else { print "ok $n - $case\n" }
}
exit($failed ? 1 : 0);
