/* test/data/public: data without auth, an API key schema (also the
 * backend the bad-input tests rewrite). */
#include <synth.h>

int main(int argc, char **argv)
{
	synth_backend *b;
	if (synth_backend_new(&b, argc, argv) < 0)
		return synth_backend_fail(NULL);
	synth_define_data(b, NULL);
	return synth_backend_main(b);
}
