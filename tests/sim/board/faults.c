/* Faults the board injects for the fault matrix (see struct sim_faults): a noisy line
 * (bytes dropped or changed, each direction with its own seeded stream so that one
 * direction's traffic does not shift the other's faults), one stall of the link, one
 * brown-out of the chip, and a UART that runs off its set rate. Bad flash sectors live in
 * nor.c, the unplugged cable in the front end. */
#include "board_internal.h"

/* splitmix64: small, fast, and good enough to spread faults evenly. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double next_unit(uint64_t *state)
{
    return (double)(next_random(state) >> 11) / 9007199254740992.0;
}

void faults_init(struct sim_board *b)
{
    uint64_t seed = b->opts.faults.seed;
    b->fault = (struct fault_state){ 0 };
    /* Two different streams from one seed. */
    b->fault.rng_to_chip = seed ^ 0x746F2D63686970ull;   /* "to-chip" */
    b->fault.rng_to_host = seed ^ 0x746F2D686F7374ull;   /* "to-host" */
}

size_t faults_on_line(struct sim_board *b, bool to_chip, const uint8_t *in, size_t n,
                      uint8_t *out)
{
    const struct sim_faults *f = &b->opts.faults;
    uint64_t *rng = to_chip ? &b->fault.rng_to_chip : &b->fault.rng_to_host;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double u = next_unit(rng);
        if (u < f->drop_rate) {
            board_trace(b, b->now_ns, "fault: byte 0x%02X %s dropped", in[i],
                        to_chip ? "to the chip" : "to the host");
            continue;
        }
        uint8_t v = in[i];
        if (u < f->drop_rate + f->corrupt_rate) {
            v ^= (uint8_t)(1 + next_random(rng) % 255);   /* never 0: it does change */
            board_trace(b, b->now_ns, "fault: byte 0x%02X %s arrives as 0x%02X", in[i],
                        to_chip ? "to the chip" : "to the host", v);
        }
        out[m++] = v;
    }
    return m;
}

bool faults_on_rx(struct sim_board *b, uint64_t t_ns)
{
    const struct sim_faults *f = &b->opts.faults;
    struct fault_state *s = &b->fault;
    s->rx_count++;
    if (f->stall_ms && !s->stall_done && s->rx_count >= f->stall_at) {
        s->stall_done = true;
        s->stall_until_ns = t_ns + (uint64_t)f->stall_ms * NS_PER_MS;
        board_trace(b, t_ns, "fault: the link stalls for %u ms", f->stall_ms);
    }
    if (f->brownout && !s->brownout_done && s->rx_count >= f->brownout_at) {
        s->brownout_done = true;
        board_trace(b, t_ns, "fault: brown-out, the chip resets");
        const char *cause = b->sim->cause_brownout ? b->sim->cause_brownout
                                                   : b->sim->cause_poweron;
        chip_restart(b, t_ns, cause, b->gpio0_low);
        return false;
    }
    return true;
}

uint32_t faults_chip_baud(const struct sim_board *b, uint32_t baud)
{
    double e = b->opts.faults.speed_error;
    if (e == 0 || baud == 0)
        return baud;
    double real = (double)baud * (1.0 + e) + 0.5;
    return real < 1 ? 1 : real > 4e9 ? UINT32_MAX : (uint32_t)real;
}

bool faults_stalled(const struct sim_board *b, uint64_t t_ns)
{
    return t_ns < b->fault.stall_until_ns;
}
