/* samples/todo: one function per category, each in its folder's resource.c. */
#ifndef TODO_H
#define TODO_H
#include <synth.h>

void todo_define_auth(synth_backend *b);
void todo_define_data(synth_backend *b);
void todo_define_storage(synth_backend *b);

#endif
