/* placeholder: being written (see the header) */
typedef int synth_placeholder_gqlresolvers;
